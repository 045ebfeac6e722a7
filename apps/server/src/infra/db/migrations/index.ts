import type { Migration, MigrationProvider } from "kysely";
import * as m0001 from "./0001-initial.js";
import * as m0002 from "./0002-ledger-append-only.js";
import * as m0003 from "./0003-currency-exponent-and-ledger-delete.js";
import * as m0004 from "./0004-deposit-fee-rules.js";
import * as m0005 from "./0005-login-attempts.js";
import * as m0006 from "./0006-staff-email-per-tenant.js";
import * as m0007 from "./0007-callback-rejections.js";
import * as m0008 from "./0008-client-disabled.js";
import * as m0009 from "./0009-status-queries.js";
import * as m0010 from "./0010-integration-health.js";
import * as m0011 from "./0011-api1-breaker.js";
import * as m0012 from "./0012-platform-operator.js";
import * as m0013 from "./0013-dashboard.js";
import * as m0014 from "./0014-exchange-rates.js";
import * as m0015 from "./0015-webhooks.js";
import * as m0016 from "./0016-callback-detail.js";
import * as m0017 from "./0017-certify-runs.js";
import * as m0018 from "./0018-withdrawals.js";
import * as m0019 from "./0019-payouts.js";

/** Migrations are listed in code (not read from disk) so they work from source and from a build. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      "0001-initial": m0001,
      "0002-ledger-append-only": m0002,
      "0003-currency-exponent-and-ledger-delete": m0003,
      "0004-deposit-fee-rules": m0004,
      "0005-login-attempts": m0005,
      "0006-staff-email-per-tenant": m0006,
      "0007-callback-rejections": m0007,
      "0008-client-disabled": m0008,
      "0009-status-queries": m0009,
      "0010-integration-health": m0010,
      "0011-api1-breaker": m0011,
      "0012-platform-operator": m0012,
      "0013-dashboard": m0013,
      "0014-exchange-rates": m0014,
      "0015-webhooks": m0015,
      "0016-callback-detail": m0016,
      "0017-certify-runs": m0017,
      "0018-withdrawals": m0018,
      "0019-payouts": m0019,
    };
  },
};
