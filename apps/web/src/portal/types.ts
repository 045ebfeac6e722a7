/** Shapes of the portal API answers. */
export interface ClientMe {
  id: string;
  name: string;
  email: string;
  tenant: { id: string; name: string; slug: string };
}

export interface PortalWallet {
  currency: string;
  balance: string;
  balanceMinor: string;
}

export interface PortalCurrency {
  code: string;
  decimals: number;
  min: string;
  max: string;
  /** Percent as decimal text ("2.50"). */
  feePercent: string;
  feeFixed: string;
  feeMax: string | null;
}

export interface PortalField {
  key: string;
  label: string;
  type: "text" | "number" | "email" | "phone" | "select";
  required: boolean;
  options: string[];
}

export interface PortalMethod {
  id: string;
  name: string;
  currencies: PortalCurrency[];
  fields: PortalField[];
}

export type DepositStatus = "pending" | "processing" | "succeeded" | "failed" | "expired" | "cancelled";

export interface PortalDeposit {
  orderNo: string;
  status: DepositStatus;
  amount: string;
  fee: string;
  credit: string;
  currency: string;
  methodName: string;
  paymentUrl: string | null;
  failureMessage: string | null;
  createdAt: number;
  updatedAt: number;
  finalizedAt: number | null;
}

export interface CreateDepositResult {
  orderNo: string;
  status: DepositStatus;
  paymentUrl: string | null;
  error: { code: string; reason: string; message: string } | null;
  replayed: boolean;
}

export const isFinal = (s: DepositStatus) => s !== "pending" && s !== "processing";
