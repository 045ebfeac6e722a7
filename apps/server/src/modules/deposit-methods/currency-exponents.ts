import type { FieldIssue } from "../../common/errors.js";

/**
 * One exponent per currency per tenant. A wallet is keyed by (client,
 * currency) and holds minor units, so every method, order and wallet of a tenant must count a
 * currency in the same exponent: once something uses a currency's decimals they are fixed.
 * Pure: the use-cases read what is in use and pass it here.
 */

/**
 * Where a currency's decimals are already in use: another live method (deposit or withdrawal),
 * orders, withdrawals or wallets.
 */
export type ExponentInUse =
  | { code: string; decimals: number; kind: "method"; name: string }
  | { code: string; decimals: number; kind: "orders"; count: number }
  | { code: string; decimals: number; kind: "wallets"; count: number }
  | { code: string; decimals: number; kind: "withdrawals"; count: number };

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

export function describeUse(u: ExponentInUse): string {
  if (u.kind === "method") return `method "${u.name}"`;
  if (u.kind === "withdrawals") return plural(u.count, "withdrawal");
  return u.kind === "orders" ? plural(u.count, "order") : plural(u.count, "wallet");
}

/**
 * Issues for the currencies of a method (create or update) whose decimals differ from those
 * already in use at the tenant, at `currencies.<i>.decimals` of the input, each naming the
 * currency, the decimals in use and where. `inputs` give the input index of each code.
 * `current`: the method's currencies before an update. Keeping a currency's decimals is no
 * change, so orders and wallets do not refuse it (data that already mixes exponents must not
 * lock a method; `psphub doctor` reports it); other methods still must agree.
 */
export function exponentIssues(
  inputs: readonly { code: string }[],
  currencies: readonly { code: string; decimals: number }[],
  inUse: readonly ExponentInUse[],
  current: readonly { code: string; decimals: number }[] = [],
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const c of currencies) {
    const kept = current.some((k) => k.code === c.code && k.decimals === c.decimals);
    const others = inUse.filter(
      (u) => u.code === c.code && u.decimals !== c.decimals && !(kept && u.kind !== "method"),
    );
    if (others.length === 0) continue;
    const byDecimals = new Map<number, string[]>();
    for (const u of others)
      byDecimals.set(u.decimals, [...(byDecimals.get(u.decimals) ?? []), describeUse(u)]);
    const held = [...byDecimals.entries()]
      .sort(([a], [b]) => a - b)
      .map(([d, where]) => `${plural(d, "decimal")} (${where.join(", ")})`)
      .join(" and ");
    issues.push({
      path: `currencies.${inputs.findIndex((i) => i.code === c.code)}.decimals`,
      message:
        `${c.code} already has ${held}: a currency keeps the same decimals in every method, ` +
        "and while orders or wallets hold it",
    });
  }
  return issues;
}

/** What `psphub doctor` and `ledger/check` read of one tenant's use of a currency's decimals. */
export type ExponentFacts = {
  /** Live methods: their name and currencies. */
  methods: readonly { name: string; currencies: readonly { code: string; decimals: number }[] }[];
  /** Orders by currency and the decimals they were created with. */
  orders: readonly { currency: string; decimals: number; count: number }[];
  /** A wallet's deposit entries by the decimals of the order each credits. */
  walletEntries: readonly {
    walletId: string;
    clientId: string;
    currency: string;
    decimals: number;
    count: number;
  }[];
};

/** A wallet holding entries counted in another exponent than the wallet's (its balance is wrong). */
export type WalletExponentMismatch = {
  walletId: string;
  clientId: string;
  currency: string;
  /** The wallet's exponent: the tenant's for its currency, the one its balance is shown in. */
  decimals: number;
  /** Its entries in another exponent, by exponent. */
  entries: { decimals: number; count: number }[];
};

export type ExponentProblems = {
  /** Live methods that give one currency different decimals. */
  methods: { currency: string; uses: { decimals: number; methods: string[] }[] }[];
  /** Orders created in another exponent than the tenant's for their currency. */
  orders: { currency: string; decimals: number; expected: number; count: number }[];
  wallets: WalletExponentMismatch[];
};

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Where a tenant's data already mixes exponents, given `exponentOf` (the tenant's exponent of a
 * currency, the one balances are shown in). Reports only: nothing may be rescaled, since which
 * exponent a stored amount meant is a question for a human.
 */
export function findMixedExponents(
  facts: ExponentFacts,
  exponentOf: (code: string) => number,
): ExponentProblems {
  const methodUses = new Map<string, Map<number, string[]>>();
  for (const m of facts.methods) {
    for (const c of m.currencies) {
      const uses = methodUses.get(c.code) ?? new Map<number, string[]>();
      uses.set(c.decimals, [...(uses.get(c.decimals) ?? []), m.name]);
      methodUses.set(c.code, uses);
    }
  }
  const methods = [...methodUses.entries()]
    .filter(([, uses]) => uses.size > 1)
    .sort(([a], [b]) => byText(a, b))
    .map(([currency, uses]) => ({
      currency,
      uses: [...uses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([decimals, names]) => ({ decimals, methods: names })),
    }));

  const orders = facts.orders
    .filter((o) => o.decimals !== exponentOf(o.currency))
    .map((o) => ({ ...o, expected: exponentOf(o.currency) }))
    .sort((a, b) => byText(a.currency, b.currency) || a.decimals - b.decimals);

  const wallets = new Map<string, WalletExponentMismatch>();
  for (const e of facts.walletEntries) {
    const decimals = exponentOf(e.currency);
    if (e.decimals === decimals) continue;
    const w = wallets.get(e.walletId) ?? {
      walletId: e.walletId,
      clientId: e.clientId,
      currency: e.currency,
      decimals,
      entries: [],
    };
    w.entries.push({ decimals: e.decimals, count: e.count });
    wallets.set(e.walletId, w);
  }
  for (const w of wallets.values()) w.entries.sort((a, b) => a.decimals - b.decimals);
  return {
    methods,
    orders,
    wallets: [...wallets.values()].sort((a, b) => byText(a.walletId, b.walletId)),
  };
}
