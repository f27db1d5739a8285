export function formatOf(file: string, source: string): "module" | "commonjs";
export const TS_FILE: RegExp;
