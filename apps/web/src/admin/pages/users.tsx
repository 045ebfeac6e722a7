import {
  Badge,
  Button,
  Group,
  Modal,
  Paper,
  PasswordInput,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { useState } from "react";
import { t } from "../../i18n/index.js";
import { ApiError, issuesToFormErrors } from "../../lib/api.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess, StatusBadge } from "../../ui/feedback.js";
import { IconPlus } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { ShownOnceSecret } from "../../ui/shown-once-secret.js";
import { api } from "../api.js";
import { ROLES, type Role } from "../permissions.js";
import type { ApiKey, StaffUser } from "../types.js";
import { useStaff } from "../use-staff.js";

/** A key's status: suspended (its issuer is disabled) and limited (its issuer lost rights) stand out. */
const KEY_STATUS_COLORS: Record<Exclude<ApiKey["status"], "revoked">, string> = {
  active: "teal",
  limited: "yellow",
  suspended: "orange",
};

const roleOptions = () => ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }));

function CreateUserModal(props: { opened: boolean; onClose: () => void; onCreated: () => void }) {
  const [busy, setBusy] = useState(false);
  const form = useForm({
    initialValues: { name: "", email: "", password: "", role: "viewer" as Role },
    validateInputOnBlur: true,
    validate: {
      name: (v) => (v.trim() ? null : t("validation.required")),
      email: (v) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? null : t("validation.email")),
      password: (v) => (v.length >= 10 ? null : t("validation.minLength", { min: 10 })),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setBusy(true);
    try {
      await api.POST("/api/admin/users", { body: { ...v, name: v.name.trim(), email: v.email.trim() } });
      form.reset();
      props.onCreated();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) form.setErrors(issuesToFormErrors(err.issues));
      else if (err instanceof ApiError && err.status === 409) form.setFieldError("email", err.message);
      else notifyError(err);
    } finally {
      setBusy(false);
    }
  });
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("users.new")}>
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <TextInput label={t("field.name")} withAsterisk {...form.getInputProps("name")} />
          <TextInput label={t("field.email")} withAsterisk type="email" {...form.getInputProps("email")} />
          <PasswordInput
            label={t("field.password")}
            withAsterisk
            autoComplete="new-password"
            {...form.getInputProps("password")}
          />
          <Select
            label={t("field.role")}
            data={roleOptions()}
            allowDeselect={false}
            {...form.getInputProps("role")}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              {t("common.cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {t("common.create")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function CreateKeyModal(props: { opened: boolean; onClose: () => void; onCreated: () => void }) {
  const [busy, setBusy] = useState(false);
  const [issued, setIssued] = useState<string | null>(null);
  const form = useForm({
    initialValues: { name: "", role: "viewer" as Role },
    validate: { name: (v) => (v.trim() ? null : t("validation.required")) },
  });
  const close = () => {
    setIssued(null);
    form.reset();
    props.onClose();
  };
  const submit = form.onSubmit(async (v) => {
    setBusy(true);
    try {
      const r = await api.POST("/api/admin/api-keys", { body: { name: v.name.trim(), role: v.role } });
      setIssued(r.key);
      props.onCreated();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) form.setErrors(issuesToFormErrors(err.issues));
      else notifyError(err);
    } finally {
      setBusy(false);
    }
  });
  return (
    <Modal opened={props.opened} onClose={close} title={t("apiKeys.new")}>
      {issued ? (
        <ShownOnceSecret notice={t("apiKeys.shownOnce")} value={issued} testId="issued-key" onClose={close} />
      ) : (
        <form onSubmit={submit} noValidate>
          <Stack gap="sm">
            <TextInput label={t("field.name")} withAsterisk {...form.getInputProps("name")} />
            <Select
              label={t("field.role")}
              data={roleOptions()}
              allowDeselect={false}
              {...form.getInputProps("role")}
            />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                {t("common.cancel")}
              </Button>
              <Button type="submit" loading={busy}>
                {t("apiKeys.issue")}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

export function UsersPage() {
  const { me } = useStaff();
  const users = useQuery(() => api.GET("/api/admin/users"), []);
  const keys = useQuery(() => api.GET("/api/admin/api-keys"), []);
  const [userOpen, setUserOpen] = useState(false);
  const [keyOpen, setKeyOpen] = useState(false);

  const patch = async (u: StaffUser, body: Partial<Pick<StaffUser, "role" | "disabled">>) => {
    try {
      await api.PATCH("/api/admin/users/{id}", { params: { path: { id: u.id } }, body });
      notifySuccess(t("users.saved", { name: u.name }));
    } catch (err) {
      notifyError(err);
    }
    // A user's role and disabled flag bound the keys they issued: their statuses change with them.
    await Promise.all([users.reload(), keys.reload()]);
  };

  const issuerName = (k: ApiKey) =>
    users.data?.items.find((u) => u.id === k.createdBy)?.name ?? t("apiKeys.unknownIssuer");

  const revoke = (k: ApiKey) =>
    modals.openConfirmModal({
      title: t("apiKeys.revokeTitle", { name: k.name }),
      children: <Text size="sm">{t("apiKeys.revokeText")}</Text>,
      labels: { confirm: t("apiKeys.revoke"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          await api.DELETE("/api/admin/api-keys/{id}", { params: { path: { id: k.id } } });
          notifySuccess(t("apiKeys.revoked", { name: k.name }));
        } catch (err) {
          notifyError(err);
        }
        await keys.reload();
      },
    });

  return (
    <>
      <PageHeader
        title={t("users.title")}
        description={t("users.description")}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setUserOpen(true)}>
            {t("users.new")}
          </Button>
        }
      />
      <ErrorAlert error={users.error} />
      <Paper withBorder p="sm" mb="xl">
        <DataTable
          testId="users-table"
          minWidth={720}
          rows={users.data?.items}
          loading={users.loading}
          rowKey={(u) => u.id}
          defaultSort={{ key: "name", dir: "asc" }}
          columns={[
            {
              key: "name",
              header: t("field.name"),
              sortValue: (u) => u.name.toLowerCase(),
              render: (u) => u.name,
            },
            { key: "email", header: t("field.email"), sortValue: (u) => u.email, render: (u) => u.email },
            {
              key: "role",
              header: t("field.role"),
              sortValue: (u) => ROLES.indexOf(u.role),
              render: (u) => (
                <Select
                  size="xs"
                  w={130}
                  data={roleOptions()}
                  value={u.role}
                  allowDeselect={false}
                  disabled={u.id === me?.id}
                  onChange={(v) => v && v !== u.role && void patch(u, { role: v as Role })}
                  aria-label={t("users.roleOf", { name: u.name })}
                />
              ),
            },
            {
              key: "active",
              header: t("field.status"),
              render: (u) => (
                <Switch
                  checked={!u.disabled}
                  disabled={u.id === me?.id}
                  onChange={(e) => void patch(u, { disabled: !e.currentTarget.checked })}
                  label={u.disabled ? t("status.disabled") : t("status.active")}
                  aria-label={t("users.activeOf", { name: u.name })}
                />
              ),
            },
            { key: "created", header: t("field.created"), render: (u) => dateTime(u.createdAt) },
          ]}
        />
      </Paper>

      <Group justify="space-between" mb="sm">
        <div>
          <Title order={3}>{t("apiKeys.title")}</Title>
          <Text size="sm" c="dimmed">
            {t("apiKeys.description")}
          </Text>
        </div>
        <Button variant="light" leftSection={<IconPlus size={16} />} onClick={() => setKeyOpen(true)}>
          {t("apiKeys.new")}
        </Button>
      </Group>
      <ErrorAlert error={keys.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="api-keys-table"
          rows={keys.data?.items}
          loading={keys.loading}
          rowKey={(k) => k.id}
          empty={t("apiKeys.empty")}
          columns={[
            { key: "name", header: t("field.name"), render: (k) => k.name },
            {
              key: "prefix",
              header: t("apiKeys.prefix"),
              render: (k) => <span className="mono">psk_{k.prefix}…</span>,
            },
            { key: "role", header: t("field.role"), render: (k) => t(`role.${k.role}`) },
            { key: "issuer", header: t("apiKeys.issuedBy"), render: (k) => issuerName(k) },
            { key: "created", header: t("field.created"), render: (k) => dateTime(k.createdAt) },
            { key: "used", header: t("apiKeys.lastUsed"), render: (k) => dateTime(k.lastUsedAt) },
            {
              key: "status",
              header: t("field.status"),
              render: (k) =>
                k.status === "revoked" ? (
                  <StatusBadge status="disabled">{t("status.revoked")}</StatusBadge>
                ) : (
                  <Stack gap={4} align="flex-start">
                    <Group gap="xs" wrap="nowrap">
                      <Badge
                        color={KEY_STATUS_COLORS[k.status]}
                        variant="light"
                        data-status={k.status}
                        style={{ flexShrink: 0 }}
                      >
                        {t(`status.${k.status}`)}
                      </Badge>
                      <Button size="compact-xs" color="red" variant="light" onClick={() => revoke(k)}>
                        {t("apiKeys.revoke")}
                      </Button>
                    </Group>
                    {k.status === "suspended" ? (
                      <Text size="xs" c="dimmed">
                        {t("apiKeys.suspendedHint", { name: issuerName(k) })}
                      </Text>
                    ) : k.status === "limited" && k.effectiveRole ? (
                      <Text size="xs" c="dimmed">
                        {t("apiKeys.limitedHint", {
                          role: t(`role.${k.effectiveRole}`),
                          name: issuerName(k),
                        })}
                      </Text>
                    ) : null}
                  </Stack>
                ),
            },
          ]}
        />
      </Paper>
      <CreateUserModal
        opened={userOpen}
        onClose={() => setUserOpen(false)}
        onCreated={() => {
          setUserOpen(false);
          notifySuccess(t("users.created"));
          void users.reload();
        }}
      />
      <CreateKeyModal
        opened={keyOpen}
        onClose={() => setKeyOpen(false)}
        onCreated={() => void keys.reload()}
      />
    </>
  );
}
