import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { t } from "../i18n/index.js";
import { ApiError, issuesToFormErrors } from "../lib/api.js";
import { errorMessage } from "./feedback.js";

export interface LoginField {
  name: string;
  label: string;
  type?: "text" | "email" | "password";
  autoComplete?: string;
  initial?: string;
  /** May be left empty (the admin login's company code); `description` says when it is needed. */
  optional?: boolean;
  description?: string;
}

/**
 * The login form of both apps: fields checked inline before sending, the server's refusal
 * shown inline in the form (never as a toast that disappears).
 */
export function LoginCard(props: {
  title: string;
  subtitle: string;
  fields: LoginField[];
  notice: string | null;
  /** What a 401 says (the portal names the company too). */
  badCredentials?: string;
  onSubmit: (values: Record<string, string>) => Promise<void>;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm<Record<string, string>>({
    initialValues: Object.fromEntries(props.fields.map((f) => [f.name, f.initial ?? ""])),
    validate: Object.fromEntries(
      props.fields.map((f) => [
        f.name,
        (v: string) =>
          v.trim() === ""
            ? f.optional
              ? null
              : t("validation.required")
            : f.type === "email" && !/^[^\s@]+@[^\s@]+$/.test(v.trim())
              ? t("validation.email")
              : null,
      ]),
    ),
  });

  const submit = form.onSubmit(async (values) => {
    setError(null);
    setBusy(true);
    try {
      const trimmed = Object.fromEntries(
        Object.entries(values).map(([k, v]) => [
          k,
          props.fields.find((f) => f.name === k)?.type === "password" ? v : v.trim(),
        ]),
      );
      await props.onSubmit(trimmed);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && err.issues.length) {
        form.setErrors(issuesToFormErrors(err.issues));
      } else if (err instanceof ApiError && err.status === 429) {
        setError(t("auth.rateLimited"));
      } else if (err instanceof ApiError && err.status === 401) {
        setError(props.badCredentials ?? t("auth.badCredentials"));
      } else {
        setError(errorMessage(err));
      }
    } finally {
      setBusy(false);
    }
  });

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={400}>
        <form onSubmit={submit} noValidate aria-label={props.title}>
          <Stack>
            <div>
              <Title order={2}>{props.title}</Title>
              <Text c="dimmed" size="sm">
                {props.subtitle}
              </Text>
            </div>
            {props.notice ? (
              <Alert color="blue" variant="light" data-testid="login-notice">
                {props.notice}
              </Alert>
            ) : null}
            {props.fields.map((f) =>
              f.type === "password" ? (
                <PasswordInput
                  key={f.name}
                  label={f.label}
                  name={f.name}
                  autoComplete={f.autoComplete}
                  {...form.getInputProps(f.name)}
                />
              ) : (
                <TextInput
                  key={f.name}
                  label={f.label}
                  name={f.name}
                  type={f.type ?? "text"}
                  autoComplete={f.autoComplete}
                  description={f.description}
                  {...form.getInputProps(f.name)}
                />
              ),
            )}
            {error ? (
              <Alert color="red" variant="light" role="alert" data-testid="login-error">
                {error}
              </Alert>
            ) : null}
            <Button type="submit" loading={busy} fullWidth>
              {t("auth.login")}
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
