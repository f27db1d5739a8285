// The known split: A spins 7 ms, B spins 3 ms, 300 times. The true shares are 70% and 30%; the report should
// say so too. The program measures the truth itself (performance.now()) and prints it for comparison.
//
//   npx tsprofile examples/split.ts [repeats]
let timeA = 0;
let timeB = 0;

function spin(ms: number): number {
  const start = performance.now();
  let now = start;
  while (now - start < ms) now = performance.now();
  return now - start;
}

function A() {
  timeA += spin(7);
}

function B() {
  timeB += spin(3);
}

const repeats = Number(process.argv[2] ?? 300);
for (let i = 0; i < repeats; i++) {
  A();
  B();
}
const total = timeA + timeB;
console.log(
  `measured: A ${timeA.toFixed(1)} ms (${((100 * timeA) / total).toFixed(1)}%), ` +
    `B ${timeB.toFixed(1)} ms (${((100 * timeB) / total).toFixed(1)}%)`,
);
