import { Table } from "@mantine/core";
import { t } from "../i18n/index.js";
import { money } from "../lib/money.js";

/**
 * The figures behind a credit an admin is about to decide (review resolution, manual approval):
 * the ordered amount with its quoted fee, the amount the PSP reported as paid, the fee charged
 * and the credit: both amounts wherever the credit is decided.
 */
export function CreditFigures(props: {
  currency: string;
  ordered: string;
  orderedFee: string;
  /** null: no paid amount was reported. */
  paid: string | null;
  fee: string;
  credit: string;
  /** The credit's currency when a locked quote converts it (the account currency). */
  creditCurrency?: string;
  testId?: string;
}) {
  const rows: [string, string, string][] = [
    ["ordered", t("credit.ordered"), `${money(props.ordered, props.currency)}`],
    ["ordered-fee", t("credit.orderedFee"), money(props.orderedFee, props.currency)],
    [
      "paid",
      t("credit.paid"),
      props.paid === null ? t("credit.notReported") : money(props.paid, props.currency),
    ],
    ["fee", t("credit.fee"), money(props.fee, props.currency)],
    ["credit", t("credit.credit"), money(props.credit, props.creditCurrency ?? props.currency)],
  ];
  return (
    <Table withRowBorders={false} verticalSpacing={2} data-testid={props.testId ?? "credit-figures"}>
      <Table.Tbody>
        {rows.map(([key, label, value]) => (
          <Table.Tr key={key} data-figure={key}>
            <Table.Td c="dimmed">{label}</Table.Td>
            <Table.Td className="num" ta="right" fw={key === "credit" ? 600 : undefined}>
              {value}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
