// Rich display in a notebook (Deno's Jupyter kernel): an object with a Symbol.for("Jupyter.display") method is
// shown by the bundle of MIME types the method returns. This module is the protocol only, for any report page
// (src/display.ts makes sessions displayable with it). A report page is a whole HTML document with its own scripts
// and styles; a notebook inserts text/html into its own page, so the document goes into an <iframe srcdoc>, where
// its scripts and styles stay its own.

/** The key Deno's Jupyter kernel looks for on a value to display it. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/** What a display method returns: output by MIME type. */
export interface DisplayBundle {
  "text/html": string;
  "text/plain": string;
}

/** Text as an HTML attribute value in double quotes: & first, so the other entities are not escaped twice. */
export function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A self-contained HTML page (a report) as a notebook's display bundle: the page in an <iframe srcdoc> as wide as
 * the cell and `height` CSS pixels high (the report scrolls inside it; default 600), and `text` for frontends
 * that show text only.
 */
export function htmlDisplayBundle(html: string, text: string, height = 600): DisplayBundle {
  const px = Number.isFinite(height) ? Math.max(100, Math.round(height)) : 600;
  const frame = `<iframe srcdoc="${escapeAttribute(html)}" title="${escapeAttribute(text.split("\n")[0])}" ` +
    `style="width: 100%; height: ${px}px; border: 0;"></iframe>`;
  return { "text/html": frame, "text/plain": text };
}

/**
 * Gives `target` a display method, non-enumerable so a plain data object stays plain to everything else (JSON,
 * structuredClone, Object.keys, spread and deep equality skip it). A frozen or sealed object is left as it is.
 * Returns target.
 */
export function attachDisplay<T extends object>(target: T, display: () => DisplayBundle): T {
  if (!Object.isExtensible(target)) return target;
  Object.defineProperty(target, JUPYTER_DISPLAY, {
    value: display,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return target;
}
