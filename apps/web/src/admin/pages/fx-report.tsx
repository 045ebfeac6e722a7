import { Alert, Button, Group, Paper, TextInput } from "@mantine/core";
import { useState } from "react";
import { t } from "../../i18n/index.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { fxApi, fxReportCsvUrl } from "../fx-api.js";
import { defaultReportDays, reportRange } from "../fx-report-model.js";

/** FX volume and markup earned per currency pair, over succeeded deposits finalized in a range. */
export function FxReportPage() {
  const [days, setDays] = useState(() => defaultReportDays(new Date()));
  const range = reportRange(days);
  const q = useQuery(() => (range ? fxApi.report(range) : Promise.resolve(null)), [range?.from, range?.to]);

  return (
    <>
      <PageHeader
        title={t("fx.report.title")}
        description={t("fx.report.description")}
        actions={
          range ? (
            <Button component="a" href={fxReportCsvUrl(range)} variant="light" data-testid="fx-report-csv">
              {t("fx.report.csv")}
            </Button>
          ) : null
        }
      />
      <Group mb="md" align="flex-end" aria-label={t("fx.report.range")}>
        <TextInput
          type="date"
          label={t("deposits.from")}
          value={days.from}
          onChange={(e) => setDays({ ...days, from: e.currentTarget.value })}
          w={170}
        />
        <TextInput
          type="date"
          label={t("deposits.to")}
          value={days.to}
          onChange={(e) => setDays({ ...days, to: e.currentTarget.value })}
          w={170}
        />
      </Group>
      {!range ? (
        <Alert color="yellow" variant="light" mb="md">
          {t("fx.report.badRange")}
        </Alert>
      ) : null}
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="fx-report-table"
          rows={q.data?.items ?? (range ? undefined : [])}
          loading={q.loading}
          rowKey={(r) => `${r.paymentCurrency}-${r.accountCurrency}`}
          empty={t("fx.report.empty")}
          minWidth={760}
          columns={[
            {
              key: "pair",
              header: t("fx.report.pair"),
              sortValue: (r) => `${r.paymentCurrency}${r.accountCurrency}`,
              render: (r) => <span className="mono">{`${r.paymentCurrency} → ${r.accountCurrency}`}</span>,
            },
            {
              key: "deposits",
              header: t("fx.report.deposits"),
              align: "right",
              sortValue: (r) => r.deposits,
              render: (r) => <span className="num">{r.deposits}</span>,
            },
            {
              key: "payment",
              header: t("fx.report.paymentVolume"),
              align: "right",
              render: (r) => <span className="num">{money(r.paymentVolume, r.paymentCurrency)}</span>,
            },
            {
              key: "account",
              header: t("fx.report.accountVolume"),
              align: "right",
              render: (r) => <span className="num">{money(r.accountVolume, r.accountCurrency)}</span>,
            },
            {
              key: "markup",
              header: t("fx.report.markup"),
              align: "right",
              render: (r) => <span className="num">{money(r.markupEarned, r.accountCurrency)}</span>,
            },
          ]}
        />
      </Paper>
    </>
  );
}
