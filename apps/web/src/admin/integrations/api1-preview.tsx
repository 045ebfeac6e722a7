import { Alert, Code, Group, Loader, Stack, Text } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useState } from "react";
import { t } from "../../i18n/index.js";
import { ApiError } from "../../lib/api.js";
import { errorMessage } from "../../ui/feedback.js";
import { api } from "../api.js";
import type { Api1Preview as Preview } from "../types.js";
import { customParamsInput, type IntegrationFormValues, paramConfigInput } from "./integration-form.js";

/**
 * The exact API-1 body the current (unsaved) configuration sends for a sample order, with its
 * StringA and sign. The server builds it with the same code as the real call, signed with a
 * public sample token.
 */
export function Api1Preview(props: { values: IntegrationFormValues }) {
  const input = JSON.stringify({
    paramConfig: paramConfigInput(props.values.paramConfig),
    customParams: customParamsInput(props.values.customParams).map((p) => ({
      ...p,
      // Incomplete rows still preview, under a placeholder label.
      label: p.label || "…",
      ...(p.options ? { options: p.options.length ? p.options : ["…"] } : {}),
    })),
  });
  const [debounced] = useDebouncedValue(input, 250);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let stale = false;
    setLoading(true);
    api
      .POST("/api/admin/integrations/api1-preview", { body: JSON.parse(debounced) })
      .then((p) => {
        if (stale) return;
        setPreview(p);
        setProblem(null);
      })
      .catch((err: unknown) => {
        if (stale) return;
        setProblem(
          err instanceof ApiError && err.issues.length
            ? err.issues.map((i) => `${i.path.replace(/^body\./, "")}: ${i.message}`).join("\n")
            : errorMessage(err),
        );
      })
      .finally(() => {
        if (!stale) setLoading(false);
      });
    return () => {
      stale = true;
    };
  }, [debounced]);

  return (
    <Stack gap="xs" data-testid="api1-preview">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {t("integrations.preview.hint")}
        </Text>
        {loading ? <Loader size="xs" /> : null}
      </Group>
      {problem ? (
        <Alert color="orange" variant="light" title={t("integrations.preview.invalid")}>
          <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
            {problem}
          </Text>
        </Alert>
      ) : null}
      {preview ? (
        <>
          <Text size="xs" fw={600} tt="uppercase" c="dimmed">
            {t("integrations.preview.body")}
          </Text>
          <Code
            block
            data-testid="api1-preview-body"
            style={{ opacity: problem ? 0.5 : 1, whiteSpace: "pre-wrap", wordBreak: "break-all" }}
          >
            {JSON.stringify(preview.body, null, 2)}
          </Code>
          <Text size="xs" fw={600} tt="uppercase" c="dimmed">
            {t("integrations.preview.stringA")}
          </Text>
          <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
            {preview.stringA}
          </Code>
          <Text size="xs" c="dimmed">
            {t("integrations.preview.signedWith", { token: preview.sampleToken })}
          </Text>
        </>
      ) : null}
    </Stack>
  );
}
