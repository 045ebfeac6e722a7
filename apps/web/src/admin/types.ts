import type { Api1ParamConfig } from "@psphub/protocol/admin";
import type { Role } from "./permissions.js";

/** Shapes of the back-office API answers (the server's response schemas list every field). */

export interface StaffMe {
  id: string;
  email: string;
  name: string;
  role: Role;
  tenant: { id: string; name: string; slug: string };
  permissions: string[];
}

export type CustomParamType = "text" | "number" | "email" | "phone" | "select";
export type AmountPolicy = "exact" | "credit_paid" | "review";

export interface CustomParam {
  key: string;
  label: string;
  type: CustomParamType;
  required: boolean;
  options?: string[];
  order: number;
}

export interface Integration {
  id: string;
  name: string;
  enabled: boolean;
  appUrl: string;
  merchantId: string;
  api1TimeoutMs: number;
  amountPolicy: AmountPolicy;
  paramConfig: Api1ParamConfig;
  customParams: CustomParam[];
  callbackUrl: string;
  tokenRotatedAt: number | null;
  previousTokenValidUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Revealed {
  merchantId: string;
  token: string;
  callbackUrl: string;
}

export interface Api1Preview {
  body: Record<string, string | number>;
  stringA: string;
  sign: string;
  sampleToken: string;
}

export interface Client {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  nationality: string | null;
  language: string | null;
  group: string | null;
  portalAccess: boolean;
  createdAt: number;
}

export interface Wallet {
  id: string;
  currency: string;
  balance: string;
  balanceMinor: string;
  createdAt: number;
}

export interface LedgerEntry {
  id: string;
  walletId: string;
  currency: string;
  amount: string;
  kind: "deposit" | "adjustment";
  depositId: string | null;
  memo: string | null;
  createdAt: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface CallbackLogEntry {
  id: string;
  createdAt: number;
  verdict: "accepted" | "duplicate" | "rejected" | "review";
  errorType: string | null;
  httpStatus: number;
  merchantId: string | null;
  orderNo: string | null;
  depositId: string | null;
  contentType: string | null;
  rawBody: string;
  remoteAddr: string | null;
  /** 1, or for a summary of requests throttled with 429 how many it stands for. */
  requestCount: number;
}

export interface MethodCurrency {
  code: string;
  decimals: number;
  min: string;
  max: string;
  feePercent: string;
  feeFixed: string;
  feeMax: string | null;
}

export interface DepositField {
  key: string;
  label: string;
  defaultLabel: string;
  type: CustomParamType;
  required: boolean;
  options?: string[];
  order: number;
}

export interface DepositMethod {
  id: string;
  name: string;
  integrationId: string;
  integrationName: string;
  enabled: boolean;
  sortOrder: number;
  currencies: MethodCurrency[];
  visibility: "all" | "groups";
  clientGroups: string[];
  fieldLabels: Record<string, string>;
  fields: DepositField[];
  orderTtlSeconds: number;
  createdAt: number;
  updatedAt: number;
}

export type DepositStatus = "pending" | "processing" | "succeeded" | "failed" | "expired" | "cancelled";
export const DEPOSIT_STATUSES: DepositStatus[] = [
  "pending",
  "processing",
  "succeeded",
  "failed",
  "expired",
  "cancelled",
];

export interface AdminDeposit {
  id: string;
  orderNo: string;
  status: DepositStatus;
  clientId: string;
  clientName: string | null;
  methodId: string;
  methodName: string | null;
  integrationId: string;
  integrationName: string | null;
  currency: string;
  decimals: number;
  amount: string;
  fee: string;
  credit: string;
  paidAmount: string | null;
  paymentUrl: string | null;
  transactionId: string | null;
  pspTime: number | null;
  failureReason: string | null;
  failureMessage: string | null;
  fields: Record<string, string>;
  device: string | null;
  language: string | null;
  createdBy: string | null;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
  finalizedAt: number | null;
}

export interface TimelineEvent {
  id: string;
  kind: string;
  createdAt: number;
  data: Record<string, unknown>;
}

export interface AdminDepositDetail extends AdminDeposit {
  timeline: TimelineEvent[];
  ledgerEntry: {
    id: string;
    walletId: string;
    amount: string;
    kind: string;
    memo: string | null;
    createdAt: number;
  } | null;
  callbacks: {
    id: string;
    verdict: string;
    errorType: string | null;
    httpStatus: number;
    createdAt: number;
    rawBody: string;
  }[];
}

export interface ReviewItem {
  id: string;
  reason: string;
  status: "open" | "resolved";
  resolution: string | null;
  resolvedBy: string | null;
  comment: string | null;
  callbackLogId: string | null;
  createdAt: number;
  resolvedAt: number | null;
  deposit: {
    id: string;
    orderNo: string;
    status: DepositStatus;
    currency: string;
    amount: string;
    fee: string;
    credit: string;
    paidAmount: string | null;
    integrationId: string;
  };
  client: { id: string; name: string; email: string };
  claim: {
    status: number;
    amount: string;
    paidAmount: string;
    /** The fee on the paid amount, by the order's fee rule as it was when the order was created. */
    fee: string;
    credit: string;
    transactionId: string | null;
    time: number | null;
  };
}

export interface AuditRecord {
  id: string;
  actorType: "user" | "api_key" | "system" | "client";
  actorId: string | null;
  /** The user's name and email, or the API key's name (from the server). */
  actorName: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  createdAt: number;
}

export interface StaffUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
}

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** What it may do now: its creator's current role and disabled flag bound it. */
  status: "active" | "limited" | "suspended" | "revoked";
  effectiveRole: Role | null;
}
