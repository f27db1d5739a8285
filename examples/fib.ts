// Call-heavy code: millions of tiny recursive calls. A profiler that instruments every call slows this down
// many times (pyinstrument: x5.5 on fib(31)); a sampling one should barely move it.
//
//   npx tsprofile examples/fib.ts [n]
function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** The same numbers without the exponential blow-up, for contrast in the report. */
function fibLoop(n: number): number {
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

const n = Number(process.argv[2] ?? 35);
const started = performance.now();
const slow = fib(n);
const fast = fibLoop(n);
console.log(`fib(${n}) = ${slow} (loop: ${fast}) in ${(performance.now() - started).toFixed(0)} ms`);
