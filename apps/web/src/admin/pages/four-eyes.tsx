import { ActionIcon, Button, Card, Group, Stack, Text, TextInput } from "@mantine/core";
import { randomId } from "@mantine/hooks";
import { useEffect, useState } from "react";
import { t } from "../../i18n/index.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, notifyError, notifySuccess, PageLoader } from "../../ui/feedback.js";
import { IconPlus, IconTrash } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { monoInput } from "../../ui/theme.js";
import { api } from "../api.js";

type Row = { uid: string; currency: string; limit: string };

const CURRENCY = /^[A-Z][A-Z0-9]{2,9}$/;
const DECIMAL = /^\d+(\.\d+)?$/;

/** Each row's problems, by field (the server checks the same). */
function rowErrors(rows: Row[]): Record<string, string> {
  const errors: Record<string, string> = {};
  const seen = new Set<string>();
  for (const r of rows) {
    const code = r.currency.trim();
    if (!CURRENCY.test(code)) errors[`${r.uid}.currency`] = t("fourEyes.currencyFormat");
    else if (seen.has(code)) errors[`${r.uid}.currency`] = t("fourEyes.duplicate");
    seen.add(code);
    if (!DECIMAL.test(r.limit.trim())) errors[`${r.uid}.limit`] = t("fourEyes.amountFormat");
  }
  return errors;
}

/** The tenant's four-eyes limits per currency for needs-assistance credits (owner and admin). */
export function FourEyesPage() {
  const q = useQuery(() => api.GET("/api/admin/settings/four-eyes"), []);
  const [rows, setRows] = useState<Row[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (q.data) {
      setRows(
        Object.entries(q.data.limits).map(([currency, limit]) => ({ uid: randomId(), currency, limit })),
      );
    }
  }, [q.data]);

  if (q.loading && !q.data) return <PageLoader />;
  if (q.error) return <ErrorAlert error={q.error} />;

  const change = (uid: string, patch: Partial<Row>) => {
    setRows((rs) => rs.map((r) => (r.uid === uid ? { ...r, ...patch } : r)));
    setErrors({});
  };
  const save = async () => {
    const found = rowErrors(rows);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setSaving(true);
    try {
      const limits = Object.fromEntries(rows.map((r) => [r.currency.trim(), r.limit.trim()]));
      q.setData(await api.PUT("/api/admin/settings/four-eyes", { body: { limits } }));
      notifySuccess(t("fourEyes.saved"));
    } catch (err) {
      notifyError(err);
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      <PageHeader title={t("fourEyes.title")} description={t("fourEyes.description")} />
      <Card maw={640}>
        <Stack gap="sm" data-testid="four-eyes-limits">
          {rows.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t("fourEyes.none")}
            </Text>
          ) : null}
          {rows.map((r) => (
            <Group key={r.uid} align="flex-start" wrap="nowrap">
              <TextInput
                label={t("field.currency")}
                w={140}
                styles={monoInput}
                value={r.currency}
                onChange={(e) => change(r.uid, { currency: e.currentTarget.value.toUpperCase() })}
                error={errors[`${r.uid}.currency`]}
              />
              <TextInput
                label={t("fourEyes.limit")}
                style={{ flex: 1 }}
                inputMode="decimal"
                styles={monoInput}
                value={r.limit}
                onChange={(e) => change(r.uid, { limit: e.currentTarget.value })}
                error={errors[`${r.uid}.limit`]}
              />
              <ActionIcon
                variant="subtle"
                color="red"
                mt={28}
                aria-label={t("fourEyes.remove", { currency: r.currency || "—" })}
                onClick={() => setRows((rs) => rs.filter((x) => x.uid !== r.uid))}
              >
                <IconTrash size={16} />
              </ActionIcon>
            </Group>
          ))}
          <Group justify="space-between">
            <Button
              variant="light"
              leftSection={<IconPlus size={16} />}
              onClick={() => setRows((rs) => [...rs, { uid: randomId(), currency: "", limit: "" }])}
            >
              {t("fourEyes.add")}
            </Button>
            <Button loading={saving} onClick={() => void save()}>
              {t("common.save")}
            </Button>
          </Group>
        </Stack>
      </Card>
    </>
  );
}
