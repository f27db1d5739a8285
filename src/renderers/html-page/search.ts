// The search: the tree narrowed to the rows whose name or position holds the query, the paths to the first
// matches opened. (The timeline fades what does not match by itself, from state.query.)
import { byId, state } from "./shared.ts";
import { currentTree, label, renderTree, setFilter, shown } from "./tree.ts";

/** Matches whose paths a search opens; the tree keeps the paths to the others too, closed. */
const MAX_REVEALED = 200;

export function applySearch(): void {
  const t = currentTree();
  const q = state.query.trim().toLowerCase();
  setFilter(null, null);
  if (q === "") {
    byId("matches").textContent = "";
    renderTree();
    return;
  }
  const keep = new Uint8Array(t.n);
  const matchSet = new Uint8Array(t.n);
  setFilter(keep, matchSet);
  let count = 0;
  let coveredEnd = 0; // pre-order: the subtree of a match is [match, end[match])
  for (let i = 1; i < t.n; i++) {
    if (!label(t, i).includes(q)) continue;
    count++;
    matchSet[i] = 1;
    // The match's subtree stays; its ancestors are kept so it shows.
    if (i >= coveredEnd) {
      keep.fill(1, i, t.end[i]);
      coveredEnd = t.end[i];
    }
    for (let a = t.d.parent[i]; a > 0 && !keep[a]; a = t.d.parent[a]) keep[a] = 1;
    if (count > MAX_REVEALED) continue;
    // Open the path to it (and its group, if it is a hidden frame).
    if (!shown(t, i) && t.d.group[i] >= 0) t.openGroups.add(t.d.group[i]);
    for (let a = t.d.parent[i]; a > 0; a = t.d.parent[a]) {
      if (t.expanded.has(a)) continue;
      t.expanded.add(a);
      if (!shown(t, a) && t.d.group[a] >= 0) t.openGroups.add(t.d.group[a]);
    }
  }
  const opened = count > MAX_REVEALED ? ` (first ${MAX_REVEALED} opened)` : "";
  byId("matches").textContent = count === 0 ? "no matches" : `${count} ${count === 1 ? "match" : "matches"}${opened}`;
  renderTree();
}
