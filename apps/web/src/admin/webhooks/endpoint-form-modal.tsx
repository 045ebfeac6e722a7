import { Button, Group, Modal, MultiSelect, Stack, Switch, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useEffect, useState } from "react";
import { type MessageKey, t } from "../../i18n/index.js";
import { ApiError, issuesToFormErrors } from "../../lib/api.js";
import { useQuery } from "../../lib/use-api-query.js";
import { notifyError, notifySuccess } from "../../ui/feedback.js";
import { monoInput } from "../../ui/theme.js";
import type { WebhookEndpoint } from "../types.js";
import { webhooksApi } from "../webhooks-api.js";
import {
  type EndpointFormValues,
  emptyEndpointValues,
  endpointBody,
  endpointErrors,
  endpointValuesOf,
} from "./webhook-model.js";

/** What the modal edits: a new endpoint, or an existing one. */
export type EndpointFormTarget = { endpoint?: WebhookEndpoint };

/**
 * Creates or edits a webhook endpoint. A new one's secret comes back once in the answer:
 * `onSaved` receives it to show it (null for an edit).
 */
export function EndpointFormModal(props: {
  target: EndpointFormTarget | null;
  onClose: () => void;
  onSaved: (endpoint: WebhookEndpoint, secret: string | null) => void;
}) {
  const { target } = props;
  const [busy, setBusy] = useState(false);
  const types = useQuery(() => webhooksApi.eventTypes(), []);
  const form = useForm<EndpointFormValues>({
    initialValues: emptyEndpointValues(),
    validate: (v) =>
      Object.fromEntries(Object.entries(endpointErrors(v)).map(([k, key]) => [k, t(key as MessageKey)])),
    validateInputOnBlur: true,
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset once per opening
  useEffect(() => {
    if (!target) return;
    form.setValues(target.endpoint ? endpointValuesOf(target.endpoint) : emptyEndpointValues());
    form.clearErrors();
  }, [target]);

  const submit = form.onSubmit(async (v) => {
    if (!target) return;
    setBusy(true);
    try {
      if (target.endpoint) {
        const r = await webhooksApi.update(target.endpoint.id, endpointBody(v));
        notifySuccess(t("webhooks.form.saved"));
        props.onSaved(r, null);
      } else {
        const r = await webhooksApi.create(endpointBody(v));
        notifySuccess(t("webhooks.form.created"));
        props.onSaved(r.endpoint, r.secret);
      }
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) form.setErrors(issuesToFormErrors(err.issues));
      else notifyError(err);
    } finally {
      setBusy(false);
    }
  });

  return (
    <Modal
      opened={target !== null}
      onClose={props.onClose}
      title={target?.endpoint ? t("webhooks.form.editTitle") : t("webhooks.form.newTitle")}
      size="lg"
    >
      <form
        onSubmit={submit}
        noValidate
        aria-label={t("webhooks.form.aria")}
        data-testid="webhook-endpoint-form"
      >
        <Stack gap="sm">
          <TextInput
            label={t("webhooks.form.url")}
            description={t("webhooks.form.urlHelp")}
            placeholder="https://risk.example.com/psphub"
            required
            styles={monoInput}
            {...form.getInputProps("url")}
          />
          <TextInput
            label={t("webhooks.form.description")}
            maxLength={200}
            {...form.getInputProps("description")}
          />
          <Switch
            label={t("webhooks.form.allEvents")}
            {...form.getInputProps("allEvents", { type: "checkbox" })}
          />
          {form.values.allEvents ? null : (
            <MultiSelect
              label={t("webhooks.form.types")}
              data={(types.data ?? []).map((x) => ({ value: x.type, label: x.type }))}
              searchable
              {...form.getInputProps("types")}
            />
          )}
          <Group justify="flex-end" mt="sm">
            <Button variant="default" onClick={props.onClose}>
              {t("common.cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {target?.endpoint ? t("common.save") : t("webhooks.form.create")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
