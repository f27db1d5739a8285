// Opening an HTML report in the user's browser, for the Profiler (openInBrowser) and the CLI (-r html without -o).
import { spawn } from "node:child_process";

/** How to open a file in the default browser on a platform (process.platform's names). */
export function browserCommand(platform: string, path: string): { command: string; args: string[] } {
  if (platform === "darwin") return { command: "open", args: [path] };
  // start is a cmd builtin; its first quoted argument is the window title.
  if (platform === "win32") return { command: "cmd", args: ["/c", "start", "", path] };
  return { command: "xdg-open", args: [path] };
}

/** The command that opens `path`: BROWSER's when set (as Python's webbrowser and xdg take it), else the platform's. */
export function openerFor(path: string): { command: string; args: string[] } {
  const browser = process.env.BROWSER;
  return browser ? { command: browser, args: [path] } : browserCommand(process.platform, path);
}

/** Runs an opener detached; none on this machine (a server, CI) is no error: the file is there all the same. */
export function launch({ command, args }: { command: string; args: string[] }): void {
  try {
    const child = spawn(command, args, { detached: true, stdio: "ignore" });
    child.on("error", () => {});
    child.unref();
  } catch {
    // as above
  }
}
