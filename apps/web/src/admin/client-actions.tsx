import { Button, Group, Modal, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { type GetInputPropsReturnType, useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { isCountryCode } from "@psphub/protocol";
import { useState } from "react";
import { t } from "../i18n/index.js";
import { ApiError, issuesToFormErrors } from "../lib/api.js";
import { notifyError, notifySuccess } from "../ui/feedback.js";
import { ShownOnceSecret } from "../ui/shown-once-secret.js";
import { api } from "./api.js";
import { CountrySelect } from "./country-select.js";
import type { Client } from "./types.js";

type Details = {
  name: string;
  email: string;
  phone: string;
  nationality: string;
  language: string;
  group: string;
};

/** Edits a client's details (clients:write); an emptied optional field is cleared. */
export function EditClientModal(props: {
  client: Client;
  opened: boolean;
  onClose: () => void;
  onSaved: (c: Client) => void;
}) {
  const c = props.client;
  const [busy, setBusy] = useState(false);
  const form = useForm<Details>({
    initialValues: {
      name: c.name,
      email: c.email,
      phone: c.phone ?? "",
      nationality: c.nationality ?? "",
      language: c.language ?? "",
      group: c.group ?? "",
    },
    validateInputOnBlur: true,
    validate: {
      name: (v) => (v.trim() ? null : t("validation.required")),
      email: (v) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? null : t("validation.email")),
      phone: (v) => (!v.trim() || /^\+?[0-9][0-9 ().-]{2,39}$/.test(v.trim()) ? null : t("validation.phone")),
      // A stored code that is no country may stay while other fields change; it is marked as such.
      nationality: (v) =>
        !v || isCountryCode(v) || v === (c.nationality ?? "") ? null : t("clients.nationalityFormat"),
      language: (v) =>
        !v.trim() || /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v.trim())
          ? null
          : t("clients.languageFormat"),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setBusy(true);
    const opt = (x: string) => (x.trim() === "" ? null : x.trim());
    try {
      const saved = await api.PATCH("/api/admin/clients/{id}", {
        params: { path: { id: c.id } },
        body: {
          name: v.name.trim(),
          email: v.email.trim(),
          phone: opt(v.phone),
          // A stored code that is no country is sent only when changed, so other edits still save.
          ...(v.nationality === (c.nationality ?? "") ? {} : { nationality: opt(v.nationality) }),
          language: opt(v.language),
          group: opt(v.group),
        },
      });
      props.onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) form.setErrors(issuesToFormErrors(err.issues));
      else if (err instanceof ApiError && err.status === 409) form.setFieldError("email", err.message);
      else notifyError(err);
    } finally {
      setBusy(false);
    }
  });
  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={t("clients.editTitle", { name: c.name })}
      size="lg"
    >
      <form onSubmit={submit} noValidate aria-label={t("clients.editTitle", { name: c.name })}>
        <Stack gap="sm">
          <ClientDetailsFields inputProps={(f) => form.getInputProps(f)} />
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              {t("common.cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {t("common.save")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** Asks, resets the portal password, then shows the generated one once. */
export function confirmPasswordReset(client: Client, onDone: (c: Client) => void): void {
  modals.openConfirmModal({
    title: t("clients.resetTitle", { name: client.name }),
    children: <Text size="sm">{t("clients.resetText")}</Text>,
    labels: { confirm: t("clients.resetPassword"), cancel: t("common.cancel") },
    onConfirm: async () => {
      try {
        const res = await api.POST("/api/admin/clients/{id}/reset-password", {
          params: { path: { id: client.id } },
        });
        onDone(res.client);
        const id = modals.open({
          title: t("clients.newPasswordTitle", { name: client.name }),
          closeOnClickOutside: false,
          children: (
            <ShownOnceSecret
              notice={t("clients.passwordShownOnce")}
              value={res.password}
              testId="reset-password"
              onClose={() => modals.close(id)}
            />
          ),
        });
      } catch (err) {
        notifyError(err);
      }
    },
  });
}

/** Asks, then disables or enables the client. */
export function confirmDisabled(client: Client, disabled: boolean, onDone: (c: Client) => void): void {
  modals.openConfirmModal({
    title: t(disabled ? "clients.disableTitle" : "clients.enableTitle", { name: client.name }),
    children: <Text size="sm">{t(disabled ? "clients.disableText" : "clients.enableText")}</Text>,
    labels: { confirm: t(disabled ? "clients.disable" : "clients.enable"), cancel: t("common.cancel") },
    confirmProps: disabled ? { color: "red" } : {},
    onConfirm: async () => {
      try {
        const path = disabled ? "/api/admin/clients/{id}/disable" : "/api/admin/clients/{id}/enable";
        const saved = await api.POST(path, { params: { path: { id: client.id } } });
        notifySuccess(t(disabled ? "clients.disabled" : "clients.enabled", { name: client.name }));
        onDone(saved);
      } catch (err) {
        notifyError(err);
      }
    },
  });
}

type DetailField = "name" | "email" | "phone" | "nationality" | "language" | "group";

/** A client's details as the create and the edit forms ask for them. */
export function ClientDetailsFields({
  inputProps,
}: {
  inputProps: (field: DetailField) => GetInputPropsReturnType;
}) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
      <TextInput label={t("field.name")} withAsterisk {...inputProps("name")} />
      <TextInput label={t("field.email")} withAsterisk type="email" {...inputProps("email")} />
      <TextInput label={t("field.phone")} {...inputProps("phone")} />
      <CountrySelect
        label={t("field.nationality")}
        placeholder={t("clients.pickCountry")}
        {...inputProps("nationality")}
      />
      <TextInput label={t("field.language")} placeholder="en-us" {...inputProps("language")} />
      <TextInput label={t("field.group")} {...inputProps("group")} />
    </SimpleGrid>
  );
}
