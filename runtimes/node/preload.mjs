// What the CLI's child process loads with `node --import .../preload.mjs`: TypeScript support first (for the
// user's program and for the preload itself), then the preload, which starts the sampler before the program.
import "./register.mjs";
await import("./preload.ts");
