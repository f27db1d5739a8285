// What the CLI's child process loads with `node --import .../preload.mjs`: TypeScript support, then the
// preload, which starts the sampler before the program. In the bundle (dist/preload.mjs) the preload is
// already JavaScript, so TypeScript support is set up only when the program is TypeScript.
import { TS_FILE } from "./ts-format.mjs";

const bundled = typeof __TSPROFILE_BUNDLED__ !== "undefined"; // defined by scripts/bundle.mjs
if (!bundled || TS_FILE.test(process.argv[1] ?? "")) await import("./register.mjs");
await import("./preload.ts");
