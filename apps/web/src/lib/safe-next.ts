/** Only same-app paths are followed after login (no open redirect through ?next=). */
export function safeNext(next: string | null, fallback: string): string {
  return next?.startsWith("/") && !next.startsWith("//") && !next.includes("\\") ? next : fallback;
}
