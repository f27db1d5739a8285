// Sessions made for users (Profiler.stop() and lastSession, profile(), loadSession, decodeSession) display in a
// notebook as their HTML report (src/jupyter.ts): a session stays a plain data object, with one non-enumerable
// method more.
import {
  decodeSession as decodePlain,
  loadSession as loadPlain,
  Session as SessionFunctions,
} from "../session/session.ts";
import type { Session as SessionData } from "../session/types.ts";
import { attachDisplay, htmlDisplayBundle, JUPYTER_DISPLAY } from "./jupyter.ts";
import type { DisplayBundle } from "./jupyter.ts";
import { renderSession } from "./report.ts";
import type { ReportOptions } from "./report.ts";

/** A session's notebook display: its HTML report, and one line about it as text. */
export function sessionDisplay(session: Session, options: Partial<ReportOptions> = {}): DisplayBundle {
  const { meta } = session;
  const text = `tsprofile session: ${meta.program} (${meta.runtime}), ${(meta.duration / 1e6).toFixed(3)} s, ` +
    `${session.samples.stack.length} samples`;
  return htmlDisplayBundle(renderSession(session, { ...options, renderer: "html" }), text);
}

/**
 * The session, displayable in a notebook (Deno's Jupyter kernel) as its HTML report with these options; it
 * already is when it came from the Profiler, profile(), loadSession or decodeSession. Returns the session.
 */
export function displayable(session: Session, options: Partial<ReportOptions> = {}): Session {
  if (session === null || typeof session !== "object") return session;
  if (Object.hasOwn(session, JUPYTER_DISPLAY)) return session;
  return attachDisplay(session, () => sessionDisplay(session, options));
}

/** loadSession (session/session.ts), displayable in a notebook. */
export function loadSession(path: string): Session {
  return displayable(loadPlain(path));
}

/** decodeSession (session/session.ts), displayable in a notebook. */
export function decodeSession(bytes: Uint8Array, name?: string): Session {
  return displayable(decodePlain(bytes, name));
}

/** The Session-facing API (session/session.ts), its load and decode giving displayable sessions. */
export type Session = SessionData;
export const Session: typeof SessionFunctions = { ...SessionFunctions, load: loadSession, decode: decodeSession };
