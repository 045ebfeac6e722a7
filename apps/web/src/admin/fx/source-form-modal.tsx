import { Button, Group, Modal, NumberInput, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useEffect, useState } from "react";
import { t } from "../../i18n/index.js";
import { ApiError, issuesToFormErrors } from "../../lib/api.js";
import { notifyError, notifySuccess } from "../../ui/feedback.js";
import { monoInput } from "../../ui/theme.js";
import { fxApi } from "../fx-api.js";
import {
  emptySourceValues,
  SOURCE_LIMITS,
  type SourceFormValues,
  sourceCreateBody,
  sourceErrors,
  sourceUpdateBody,
  sourceValuesOf,
} from "../fx-source-model.js";
import type { FxSource, FxSourceKind } from "../types.js";

/** What the modal edits: a new source of a kind, or an existing one. */
export type SourceFormTarget =
  | { kind: FxSourceKind; source?: undefined }
  | { kind?: undefined; source: FxSource };

/**
 * Creates or edits a rate source. A new external API's key comes back once in the answer:
 * `onSaved` receives it to show it (null for a manual table and for an edit).
 */
export function SourceFormModal(props: {
  target: SourceFormTarget | null;
  onClose: () => void;
  onSaved: (source: FxSource, key: string | null) => void;
}) {
  const { target } = props;
  const [busy, setBusy] = useState(false);
  const form = useForm<SourceFormValues>({
    initialValues: emptySourceValues("manual"),
    validate: sourceErrors,
    validateInputOnBlur: true,
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset once per opening
  useEffect(() => {
    if (!target) return;
    form.setValues(target.source ? sourceValuesOf(target.source) : emptySourceValues(target.kind));
    form.clearErrors();
  }, [target]);

  const kind = target?.source?.kind ?? target?.kind ?? "manual";
  const title = target?.source
    ? t("fx.sources.editTitle", { name: target.source.name })
    : kind === "external"
      ? t("fx.sources.newExternalTitle")
      : t("fx.sources.newManualTitle");

  const submit = form.onSubmit(async (v) => {
    if (!target) return;
    setBusy(true);
    try {
      if (target.source) {
        const r = await fxApi.updateSource(target.source.id, sourceUpdateBody(v));
        notifySuccess(t("fx.sources.saved", { name: r.source.name }));
        props.onSaved(r.source, null);
      } else {
        const r = await fxApi.createSource(sourceCreateBody(v));
        notifySuccess(t("fx.sources.created", { name: r.source.name }));
        props.onSaved(r.source, r.key);
      }
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) form.setErrors(issuesToFormErrors(err.issues));
      else notifyError(err);
    } finally {
      setBusy(false);
    }
  });

  return (
    <Modal opened={target !== null} onClose={props.onClose} title={title} size="lg">
      <form onSubmit={submit} noValidate aria-label={t("fx.sources.formAria")} data-testid="fx-source-form">
        <Stack gap="sm">
          <TextInput
            label={t("fx.sources.name")}
            withAsterisk
            data-autofocus
            {...form.getInputProps("name")}
          />
          {kind === "external" ? (
            <>
              <TextInput
                label={t("fx.sources.url")}
                description={t("fx.sources.urlHint")}
                placeholder="https://rates.example.com/fx"
                withAsterisk
                styles={monoInput}
                {...form.getInputProps("url")}
              />
              <Group grow align="flex-start">
                <NumberInput
                  label={t("fx.sources.timeout")}
                  min={SOURCE_LIMITS.timeoutMs.min}
                  max={SOURCE_LIMITS.timeoutMs.max}
                  allowDecimal={false}
                  suffix=" ms"
                  {...form.getInputProps("timeoutMs")}
                />
                <NumberInput
                  label={t("fx.sources.ttl")}
                  description={t("fx.sources.ttlHint")}
                  min={SOURCE_LIMITS.ttlSeconds.min}
                  max={SOURCE_LIMITS.ttlSeconds.max}
                  allowDecimal={false}
                  suffix=" s"
                  {...form.getInputProps("ttlSeconds")}
                />
              </Group>
            </>
          ) : (
            <NumberInput
              label={t("fx.sources.ttl")}
              description={t("fx.sources.manualTtlHint")}
              placeholder={t("fx.sources.noExpiry")}
              min={SOURCE_LIMITS.ttlSeconds.min}
              max={SOURCE_LIMITS.ttlSeconds.max}
              allowDecimal={false}
              suffix=" s"
              {...form.getInputProps("ttlSeconds")}
            />
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              {t("common.cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {target?.source ? t("common.save") : t("fx.sources.create")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
