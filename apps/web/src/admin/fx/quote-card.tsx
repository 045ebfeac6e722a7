import { Badge, Card, Group, Table, Text, Title } from "@mantine/core";
import { t } from "../../i18n/index.js";
import { dateTimeSeconds } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { bpsToMarkupPercent } from "../markup-model.js";
import { quoteNet } from "../quote-model.js";
import type { DepositQuote } from "../types.js";

/**
 * The quote locked on a deposit when it was made: what the client pays (amount, fee, net, in
 * the payment currency), the rate (the source's, the markup, the effective one), what the
 * account receives, and where and when the rate came from. The credit follows this quote.
 */
export function QuoteCard({ quote: q }: { quote: DepositQuote }) {
  const pay = q.paymentCurrency;
  const rows: [string, string, string][] = [
    ["pay", t("fx.quote.youPay"), money(q.paymentAmount, pay)],
    ["fee", t("fx.quote.fee"), money(q.fee, pay)],
    ["net", t("fx.quote.net"), money(quoteNet(q), pay)],
    ["source-rate", t("fx.quote.sourceRate"), q.sourceRate],
    [
      "markup",
      t("fx.quote.markup"),
      t("fx.quote.markupAmount", {
        percent: bpsToMarkupPercent(q.markupBps),
        amount: money(q.markupAmount, q.accountCurrency),
      }),
    ],
    ["rate", t("fx.quote.rate"), `1 ${pay} = ${q.rate} ${q.accountCurrency}`],
    ["account", t("fx.quote.account"), money(q.accountAmount, q.accountCurrency)],
    ["rate-time", t("fx.quote.rateTime"), dateTimeSeconds(q.rateTime)],
    ["quoted-at", t("fx.quote.quotedAt"), dateTimeSeconds(q.quotedAt)],
  ];
  return (
    <Card data-testid="deposit-quote" aria-label={t("fx.quote.title")}>
      <Group justify="space-between" mb="xs">
        <Title order={5}>{t("fx.quote.title")}</Title>
        <Group gap={6}>
          <Text size="sm" data-testid="deposit-quote-source">
            {q.sourceName}
          </Text>
          <Badge variant="light" color={q.sourceKind === "external" ? "indigo" : "gray"}>
            {t(`fx.kind.${q.sourceKind}`)}
          </Badge>
        </Group>
      </Group>
      <Text size="sm" mb="xs" data-testid="deposit-quote-summary">
        {t("fx.quote.summary", {
          pay: money(q.paymentAmount, pay),
          fee: money(q.fee, pay),
          credit: money(q.accountAmount, q.accountCurrency),
          rate: q.rate,
        })}
      </Text>
      <Table withRowBorders={false} verticalSpacing={2}>
        <Table.Tbody>
          {rows.map(([key, label, value]) => (
            <Table.Tr key={key} data-figure={key}>
              <Table.Td c="dimmed">{label}</Table.Td>
              <Table.Td className="num" ta="right" fw={key === "account" ? 600 : undefined}>
                {value}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Card>
  );
}
