import {
  Badge,
  Button,
  Drawer,
  Group,
  Modal,
  PasswordInput,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { ApiError, issuesToFormErrors } from "../../lib/api.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { openCommentModal } from "../../ui/comment-modal.js";
import { type Column, DataTable } from "../../ui/data-table.js";
import { ErrorAlert, errorMessage, notifySuccess } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import type { NewTenant, TenantSummary } from "../types.js";
import { TenantTiles } from "./tenant-tiles.js";

function confirmSuspension(row: TenantSummary, reload: () => Promise<void>) {
  const suspend = row.suspendedAt === null;
  openCommentModal({
    title: suspend ? `Suspend ${row.name}?` : `Resume ${row.name}?`,
    text: suspend
      ? "Its client portal and deposit creation stop at once; callbacks for orders already open are still applied. Its back office keeps working. The reason goes to the audit log, which the company's admins see too."
      : "Its client portal and deposit creation work again. The reason goes to the audit log.",
    fieldLabel: "Reason",
    confirmLabel: suspend ? "Suspend" : "Resume",
    color: suspend ? "red" : "teal",
    onConfirm: async (reason) => {
      const path = suspend ? "/api/platform/tenants/{id}/suspend" : "/api/platform/tenants/{id}/resume";
      await api.POST(path, { params: { path: { id: row.id } }, body: { reason } });
      notifySuccess(suspend ? `${row.name} is suspended` : `${row.name} is active again`);
      await reload();
    },
  });
}

function CreateTenantModal(props: { opened: boolean; onClose: () => void; onCreated: () => Promise<void> }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm({
    initialValues: { slug: "", name: "", owner: { email: "", name: "", password: "" } },
    validate: {
      slug: (v) => (/^[a-z0-9][a-z0-9-]{1,39}$/.test(v) ? null : "2-40 lower-case letters, digits or dashes"),
      name: (v) => (v.trim() ? null : "Required"),
      owner: {
        email: (v) => (/^[^\s@]+@[^\s@]+$/.test(v.trim()) ? null : "An e-mail address"),
        name: (v) => (v.trim() ? null : "Required"),
        password: (v) => (v.length >= 10 ? null : "At least 10 characters"),
      },
    },
  });
  const submit = form.onSubmit(async (values: NewTenant) => {
    setBusy(true);
    setError(null);
    try {
      await api.POST("/api/platform/tenants", { body: values });
      notifySuccess(`${values.name} is created`);
      form.reset();
      props.onClose();
      await props.onCreated();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) form.setErrors(issuesToFormErrors(err.issues));
      else setError(err);
    } finally {
      setBusy(false);
    }
  });
  return (
    <Modal opened={props.opened} onClose={props.onClose} title="Create a company">
      <form onSubmit={submit} noValidate aria-label="Create a company">
        <Stack gap="sm">
          <TextInput
            label="Company code (slug)"
            description="The portal's login names it"
            {...form.getInputProps("slug")}
          />
          <TextInput label="Name" {...form.getInputProps("name")} />
          <TextInput label="First owner's e-mail" type="email" {...form.getInputProps("owner.email")} />
          <TextInput label="First owner's name" {...form.getInputProps("owner.name")} />
          <PasswordInput
            label="First owner's password"
            autoComplete="new-password"
            {...form.getInputProps("owner.password")}
          />
          <ErrorAlert error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function TenantsPage() {
  const q = useQuery(() => api.GET("/api/platform/tenants"), []);
  const [creating, setCreating] = useState(false);
  const [tiles, setTiles] = useState<TenantSummary | null>(null);
  const columns: Column<TenantSummary>[] = [
    {
      key: "name",
      header: "Company",
      sortValue: (r) => r.name.toLowerCase(),
      render: (r) => (
        <Stack gap={0}>
          <Text size="sm" fw={500}>
            {r.name}
          </Text>
          <Text size="xs" c="dimmed">
            {r.slug}
          </Text>
        </Stack>
      ),
    },
    {
      key: "created",
      header: "Created",
      sortValue: (r) => r.createdAt,
      render: (r) => dateTime(r.createdAt),
    },
    {
      key: "status",
      header: "Status",
      render: (r) =>
        r.suspendedAt === null ? (
          <Badge color="teal" variant="light">
            Active
          </Badge>
        ) : (
          <Tooltip
            label={`Since ${dateTime(r.suspendedAt)}: ${r.suspensionReason ?? ""}`}
            multiline
            maw={320}
          >
            <Badge color="red" variant="light" data-testid="suspended-badge">
              Suspended
            </Badge>
          </Tooltip>
        ),
    },
    {
      key: "integrations",
      header: "Integrations (enabled)",
      align: "right",
      render: (r) => `${r.integrations} (${r.integrationsEnabled})`,
    },
    {
      key: "today",
      header: "Deposits today",
      align: "right",
      sortValue: (r) => r.depositsToday,
      render: (r) => r.depositsToday,
    },
    {
      key: "actions",
      header: "",
      align: "right",
      render: (r) => (
        <Group gap="xs" justify="flex-end" wrap="nowrap">
          <Button size="compact-sm" variant="default" onClick={() => setTiles(r)}>
            Health
          </Button>
          <Button
            size="compact-sm"
            variant="light"
            color={r.suspendedAt === null ? "red" : "teal"}
            onClick={() => confirmSuspension(r, q.reload)}
          >
            {r.suspendedAt === null ? "Suspend" : "Resume"}
          </Button>
        </Group>
      ),
    },
  ];
  return (
    <>
      <PageHeader
        title="Tenants"
        description="Every company on this installation, with aggregates only: no client's data is shown here."
        actions={<Button onClick={() => setCreating(true)}>Create a company</Button>}
      />
      {q.error ? <Text c="red">{errorMessage(q.error)}</Text> : null}
      <DataTable
        columns={columns}
        rows={q.data?.items}
        rowKey={(r) => r.id}
        loading={q.loading}
        empty="No company yet."
        testId="tenants-table"
        defaultSort={{ key: "created", dir: "asc" }}
      />
      <CreateTenantModal opened={creating} onClose={() => setCreating(false)} onCreated={q.reload} />
      <Drawer
        opened={tiles !== null}
        onClose={() => setTiles(null)}
        position="right"
        size="lg"
        title={tiles?.name}
      >
        {tiles ? (
          <SimpleGrid cols={1}>
            <TenantTiles tenantId={tiles.id} />
          </SimpleGrid>
        ) : null}
      </Drawer>
    </>
  );
}
