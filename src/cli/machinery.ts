// What the CLI loads lazily, to render and compare profiles (the wasm core, the renderers, the profile readers): one
// module, so that the bundled CLI takes it from the package's shared chunks (scripts/bundle.mjs) rather than
// carrying a copy of its own. It loads while the program runs, off the path of the run's start.
export { renderSessionOutput } from "../report.ts";
export { loadSession, SessionError } from "../../session/session.ts";
export { loadProfileFile } from "../profile-file.ts";
export { diffSessions, regressions, renderDiff } from "../diff.ts";
