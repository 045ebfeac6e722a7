import { Alert, Button, Group, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useEffect, useState } from "react";
import { t } from "../../i18n/index.js";
import { dateTimeSeconds } from "../../lib/format.js";
import { notifyError } from "../../ui/feedback.js";
import { fxApi } from "../fx-api.js";
import type { FxSource, FxTestResult } from "../types.js";

const CODE = /^[A-Z][A-Z0-9]{2,9}$/;

/**
 * The "Test" action: asks the source for one pair's rate now (the server always answers 200,
 * with the rate, its time and the latency, or the refusal and its reason).
 */
export function TestSourceModal(props: { source: FxSource | null; onClose: () => void }) {
  const { source } = props;
  const [from, setFrom] = useState("EUR");
  const [to, setTo] = useState("USD");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<(FxTestResult & { from: string; to: string }) | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new source starts without a result
  useEffect(() => setResult(null), [source?.id]);

  const f = from.trim().toUpperCase();
  const tt = to.trim().toUpperCase();
  const fromError = from && !CODE.test(f) ? t("methods.codeFormat") : null;
  const toError =
    to && !CODE.test(tt) ? t("methods.codeFormat") : tt === f ? t("fx.conv.sameCurrency") : null;

  const run = async () => {
    if (!source || fromError || toError || !f || !tt) return;
    setBusy(true);
    try {
      const r = await fxApi.testSource(source.id, { from: f, to: tt });
      setResult({ ...r, from: f, to: tt });
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      opened={source !== null}
      onClose={props.onClose}
      title={t("fx.test.title", { name: source?.name ?? "" })}
    >
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <Stack gap="sm" data-testid="fx-test">
          <Group grow align="flex-start">
            <TextInput
              label={t("fx.test.from")}
              value={from}
              onChange={(e) => setFrom(e.currentTarget.value)}
              error={fromError}
              data-autofocus
            />
            <TextInput
              label={t("fx.test.to")}
              value={to}
              onChange={(e) => setTo(e.currentTarget.value)}
              error={toError}
            />
          </Group>
          <Group justify="flex-end">
            <Button type="submit" loading={busy} disabled={Boolean(fromError || toError)}>
              {t("fx.test.run")}
            </Button>
          </Group>
          {result ? (
            <Alert
              color={result.ok ? "teal" : "red"}
              variant="light"
              data-testid="fx-test-result"
              data-ok={result.ok ? "true" : "false"}
            >
              {result.ok ? (
                <Stack gap={2}>
                  <Text fw={600} className="num">
                    {t("fx.test.rate", { from: result.from, rate: result.rate, to: result.to })}
                  </Text>
                  <Text size="sm">{t("fx.test.time", { at: dateTimeSeconds(result.rateTime) })}</Text>
                  <Text size="sm" c="dimmed">
                    {t("fx.test.latency", { ms: result.latencyMs })}
                  </Text>
                </Stack>
              ) : (
                <Stack gap={2}>
                  <Text fw={600}>{t("fx.test.refused", { reason: result.reason })}</Text>
                  <Text size="sm">{result.message}</Text>
                  <Text size="sm" c="dimmed">
                    {t("fx.test.latency", { ms: result.latencyMs })}
                  </Text>
                </Stack>
              )}
            </Alert>
          ) : null}
        </Stack>
      </form>
    </Modal>
  );
}
