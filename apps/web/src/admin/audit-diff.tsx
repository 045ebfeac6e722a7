import { Badge, Table, Text } from "@mantine/core";
import { type MessageKey, t } from "../i18n/index.js";
import { auditDiff } from "./audit-diff-model.js";

const REDACTED = "[redacted]";

/** An audit action in words ("Client edited"); an action without words yet shows its code. */
export function auditActionLabel(action: string): string {
  const key = `auditAction.${action}` as MessageKey;
  const text = t(key);
  return text === key ? action : text;
}

function Value({ present, value }: { present: boolean; value: unknown }) {
  if (!present || value === null || value === undefined) return <Text c="dimmed">—</Text>;
  if (value === REDACTED) return <Text fs="italic">{t("audit.redacted")}</Text>;
  return <span className="mono">{typeof value === "string" ? value : JSON.stringify(value)}</span>;
}

/**
 * An audit record's before and after, field by field: every field shown, the changed ones
 * highlighted and marked in words (not by colour alone).
 */
export function AuditDiff({ before, after }: { before: unknown; after: unknown }) {
  const rows = auditDiff(before, after);
  if (rows.length === 0) return <Text c="dimmed">{t("audit.noDetail")}</Text>;
  return (
    <Table.ScrollContainer minWidth={480}>
      <Table data-testid="audit-diff" verticalSpacing={6} withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("audit.field")}</Table.Th>
            <Table.Th>{t("audit.before")}</Table.Th>
            <Table.Th>{t("audit.after")}</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr
              key={r.path}
              data-changed={r.changed}
              style={r.changed ? { background: "var(--mantine-color-yellow-light)" } : undefined}
            >
              <Table.Td fw={r.changed ? 700 : 400} className="mono">
                {r.path}
              </Table.Td>
              <Table.Td>
                <Value present={r.inBefore} value={r.before} />
              </Table.Td>
              <Table.Td fw={r.changed ? 700 : 400}>
                <Value present={r.inAfter} value={r.after} />
              </Table.Td>
              <Table.Td>
                {r.changed ? (
                  <Badge color="yellow" variant="filled" size="sm" c="dark">
                    {t("audit.changed")}
                  </Badge>
                ) : (
                  <Text size="xs" c="dimmed">
                    {t("audit.unchanged")}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
