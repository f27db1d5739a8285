import type { EncodedSourceMap } from "@jridgewell/trace-mapping";

export const TS_FILE: RegExp;
export function transpileOptions(file: string, format: "esm" | "cjs"): Record<string, unknown>;
export function transpile(
  source: string,
  file: string,
  format: "esm" | "cjs",
): { code: string; map: EncodedSourceMap | null };
