export function formatOf(file: string, source: string): "module" | "commonjs";
