import { MAX_MARKUP_BPS } from "@psphub/protocol";
import { bpsToPercent, percentToBps } from "../lib/money.js";

/**
 * A markup is stored in whole basis points (0..MAX_MARKUP_BPS) and shown and typed as a
 * percentage with up to 2 decimals: 1 bp = 0.01 %, so the two convert exactly, as text.
 */

/** "1.25" → 125; null when not a percentage of up to 2 decimals within 0..MAX_MARKUP_BPS bp. */
export function markupPercentToBps(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const bps = percentToBps(trimmed);
  if (bps === null || bps < 0n || bps > BigInt(MAX_MARKUP_BPS)) return null;
  return Number(bps);
}

/** 125 → "1.25", 100 → "1", 0 → "0". */
export function bpsToMarkupPercent(bps: number): string {
  return bpsToPercent(bps);
}

/** The largest markup, as a percentage ("50"). */
export const MAX_MARKUP_PERCENT = bpsToMarkupPercent(MAX_MARKUP_BPS);
