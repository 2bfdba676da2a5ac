// What each fault test reports for every receiver: messages sent, delivered, duplicated and
// lost (the closing note of the durable-topics work lists these per fault).

export interface DeliveryCounts {
  sent: number;
  delivered: number;
  duplicated: number;
  lost: number;
}

/** Counts, for one receiver, what arrived of `sent` (each message's text is unique). */
export function countDeliveries(sent: readonly string[], heard: readonly string[]): DeliveryCounts {
  const seen = new Map<string, number>();
  for (const text of heard) seen.set(text, (seen.get(text) ?? 0) + 1);
  let duplicated = 0;
  for (const count of seen.values()) duplicated += count - 1;
  return { sent: sent.length, delivered: heard.length, duplicated, lost: sent.filter((text) => !seen.has(text)).length };
}
