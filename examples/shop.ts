// A little order-processing run: the README's example. Each step costs something different, so the report
// shows a readable spread: JSON parsing, a slow regex, a sort, an awaited "network" call (wall-clock time
// that a CPU profiler would miss) and a real npm package (acorn) whose frames fold into "[N frames hidden]".
//
//   npx tsprofile examples/shop.ts
import { parse } from "acorn";

interface Order {
  id: number;
  customer: string;
  items: { sku: string; qty: number; price: number }[];
  coupon: string;
}

/** The "database": a big JSON document, parsed the way a real service would receive it. */
function loadOrders(count: number): Order[] {
  const orders: Order[] = [];
  for (let i = 0; i < count; i++) {
    orders.push({
      id: i,
      customer: `customer-${i % 997}@example.com`,
      items: Array.from({ length: 1 + (i % 7) }, (_, j) => ({
        sku: `SKU-${(i * 31 + j * 17) % 10007}-${"ABCDEFGH"[j % 8]}`,
        qty: 1 + ((i + j) % 4),
        price: ((i * 13 + j * 7) % 5000) / 100,
      })),
      coupon: i % 5 === 0 ? `SAVE${i % 30}-${"X".repeat(i % 20)}` : "",
    });
  }
  return JSON.parse(JSON.stringify(orders));
}

/** Coupon codes checked with a backtracking-heavy regex: a classic hidden cost. */
const COUPON = /^(?:SAVE\d+-?)(X*)*X*$/;

function priceOrder(order: Order): number {
  let total = 0;
  for (const item of order.items) total += item.qty * item.price;
  if (order.coupon && COUPON.test(order.coupon + "!")) total *= 0.9;
  return Math.round(total * 100) / 100;
}

/** Sorting every order by total, then by customer: fine for one page, slow for everything. */
function rankCustomers(orders: Order[], totals: Map<number, number>): string[] {
  const ranked = [...orders].sort(
    (a, b) => totals.get(b.id)! - totals.get(a.id)! || a.customer.localeCompare(b.customer),
  );
  return [...new Set(ranked.map((o) => o.customer))].slice(0, 3);
}

/** The exchange-rate service: an awaited network call, simulated. */
async function fetchExchangeRate(currency: string): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 150));
  return currency === "EUR" ? 0.92 : 1;
}

/** Discount rules are little JavaScript expressions, parsed (with acorn) before they run. */
function compileDiscountRules(count: number): number {
  let nodes = 0;
  for (let i = 0; i < count; i++) {
    const source = `rules.push((order) => order.items.filter((x) => x.qty > ${
      i % 4
    }).length * ${i} + (order.coupon ? 1 : 0));`;
    const ast = parse(source.repeat(20), { ecmaVersion: "latest" });
    nodes += ast.body.length;
  }
  return nodes;
}

async function main() {
  const orders = loadOrders(40_000);
  const totals = new Map<number, number>();
  for (const order of orders) totals.set(order.id, priceOrder(order));
  const top = rankCustomers(orders, totals);
  const rate = await fetchExchangeRate("EUR");
  const rules = compileDiscountRules(400);
  let revenue = 0;
  for (const t of totals.values()) revenue += t;
  console.log(`${orders.length} orders, revenue EUR ${(revenue * rate).toFixed(2)}, ${rules} rules`);
  console.log(`top customers: ${top.join(", ")}`);
}

await main();
