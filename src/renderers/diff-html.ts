// The HTML report of two runs compared (tsprofile diff -r html): the ordinary page (html.ts, html-page/) with NEW's
// call tree carrying each row's change against BASE, and both runs' timelines. NEW's run is the page's data as for
// any report, its trees the diff trees (TreeData.baseTime, side); BASE's run rides in PageData.diff with its
// ordinary trees and its own timeline. Both are on the frame table the diff shares, so one names table serves both.
import type { DiffTree, ProcessedTree } from "../../session/types.ts";
import { VERSION } from "../../session/version.ts";
import type { DiffViews, SessionDiff } from "./diff.ts";
import { embedJson, frameTables, runMeta, timelineData, treeData } from "./html.ts";
import type { PageData } from "./html-page/data.ts";
import { PAGE_HEAD, PAGE_TAIL } from "./html-page/page.generated.ts";

/** The whole page. */
export function renderDiffHtml(diff: SessionDiff, views: DiffViews): string {
  return PAGE_HEAD + embedJson(diffPageData(diff, views)) + PAGE_TAIL;
}

export function diffPageData(diff: SessionDiff, views: DiffViews): PageData {
  const { session, base, classification, options } = diff;
  // The show-all toggle switches to the other processing of both runs. With flat, the text report's tree kept
  // every node (filterThreshold 0): the page's tree is the tree view's, so it is diffed again.
  const given = options.flat ? views.rediff({ showAll: options.showAll }) : diff.tree;
  const other = views.rediff({ showAll: !options.showAll });
  const [normal, all]: DiffTree[] = options.showAll ? [other, given] : [given, other];
  const baseTree = (showAll: boolean): ProcessedTree => views.processBase({ timeline: false, showAll });
  return {
    version: VERSION,
    meta: runMeta(session),
    ...frameTables(session, classification),
    showAll: options.showAll,
    percent: options.time === "percent_of_total",
    trees: { normal: treeData(normal), all: treeData(all) },
    timeline: timelineData(session, views.entries(session)),
    startStack: Array.from(session.meta.startStack),
    diff: {
      normalize: options.normalize,
      base: {
        meta: runMeta(base),
        trees: { normal: treeData(baseTree(false)), all: treeData(baseTree(true)) },
        timeline: timelineData(base, views.entries(base)),
        startStack: Array.from(base.meta.startStack),
      },
    },
  };
}
