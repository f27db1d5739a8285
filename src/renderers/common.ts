// What the text and JSON renderers share: frame names and positions, application-code test, terminal-safe text.
import { shortPath } from "../processing/classify.ts";
import type { Session } from "../../session/types.ts";

// Frame names and the application-code test live with the plain tree (processing/frame-tree.ts), which names
// nodes as the reports do.
export { frameName, isApplicationCode, isSynthetic } from "../processing/frame-tree.ts";
import { isSynthetic } from "../processing/frame-tree.ts";

/** "path:line" (short path), "path" without a line, "" for synthetic and file-less frames. */
export function codePosition(session: Session, frame: number): string {
  if (isSynthetic(frame)) return "";
  const info = session.frames[frame];
  if (!info || info.file === "") return "";
  const path = shortPath(info.file, session.meta.cwd);
  return info.line > 0 ? `${path}:${info.line}` : path;
}

// Terminal-safe text: the text renderer's names and paths (and the HTML page's browser code, where it lives).
export { escapeText } from "./html-page/escape.ts";

/** JSON.stringify leaves C1 controls and bidi overrides raw; a JSON report can end up on a terminal too. */
export function jsonString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g,
    (c) => {
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    },
  );
}
