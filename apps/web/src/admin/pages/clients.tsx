import { Anchor, Button, Group, Modal, Paper, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useDisclosure } from "@mantine/hooks";
import { isCountryCode } from "@psphub/protocol";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { t } from "../../i18n/index.js";
import { ApiError, issuesToFormErrors } from "../../lib/api.js";
import type { paths } from "../../lib/api-schema.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable, type SortState, serverPaged, sortParam } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess } from "../../ui/feedback.js";
import { IconPlus } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { ClientDetailsFields } from "../client-actions.js";
import { ClientStatusBadge } from "../client-status.js";
import type { Client } from "../types.js";
import { useStaff } from "../use-staff.js";

const PAGE_SIZE = 25;
const NEWEST_FIRST: SortState = { key: "created_at", dir: "desc" };
type ClientSort = NonNullable<NonNullable<paths["/api/admin/clients"]["get"]["parameters"]["query"]>["sort"]>;

interface NewClient {
  name: string;
  email: string;
  phone: string;
  nationality: string;
  language: string;
  group: string;
  password: string;
}

function CreateClientModal(props: { opened: boolean; onClose: () => void; onCreated: (c: Client) => void }) {
  const [busy, setBusy] = useState(false);
  const form = useForm<NewClient>({
    initialValues: { name: "", email: "", phone: "", nationality: "", language: "", group: "", password: "" },
    validateInputOnBlur: true,
    validate: {
      name: (v) => (v.trim() ? null : t("validation.required")),
      email: (v) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? null : t("validation.email")),
      phone: (v) => (!v.trim() || /^\+?[0-9][0-9 ().-]{2,39}$/.test(v.trim()) ? null : t("validation.phone")),
      nationality: (v) => (!v || isCountryCode(v) ? null : t("clients.nationalityFormat")),
      language: (v) =>
        !v.trim() || /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v.trim())
          ? null
          : t("clients.languageFormat"),
      password: (v) => (!v || v.length >= 10 ? null : t("validation.minLength", { min: 10 })),
    },
  });
  const submit = form.onSubmit(async (v) => {
    setBusy(true);
    try {
      const body = Object.fromEntries(
        Object.entries(v)
          .map(([k, x]) => [k, k === "password" ? x : x.trim()])
          .filter(([, x]) => x !== ""),
      );
      const c = await api.POST("/api/admin/clients", { body });
      form.reset();
      props.onCreated(c);
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) form.setErrors(issuesToFormErrors(err.issues));
      else if (err instanceof ApiError && err.status === 409) form.setFieldError("email", err.message);
      else notifyError(err);
    } finally {
      setBusy(false);
    }
  });
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("clients.new")} size="lg">
      <form onSubmit={submit} noValidate aria-label={t("clients.new")}>
        <Stack gap="sm">
          <ClientDetailsFields inputProps={(f) => form.getInputProps(f)} />
          <PasswordInput
            label={t("clients.portalPassword")}
            description={t("clients.portalPasswordHint")}
            autoComplete="new-password"
            {...form.getInputProps("password")}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              {t("common.cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {t("clients.create")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function ClientsPage() {
  const { can } = useStaff();
  const navigate = useNavigate();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState<SortState>(NEWEST_FIRST);
  const [opened, { open, close }] = useDisclosure(false);
  const q = useQuery(
    () =>
      api.GET("/api/admin/clients", {
        params: {
          query: {
            q: query,
            sort: sortParam(sort) as ClientSort,
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
          },
        },
      }),
    [query, page, sort],
  );

  return (
    <>
      <PageHeader
        title={t("clients.title")}
        description={t("clients.description")}
        actions={
          can("clients:write") ? (
            <Button leftSection={<IconPlus size={16} />} onClick={open}>
              {t("clients.new")}
            </Button>
          ) : null
        }
      />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(search.trim());
          setPage(1);
        }}
      >
        <Group mb="md" gap="sm">
          <TextInput
            placeholder={t("clients.searchPlaceholder")}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            w={320}
            aria-label={t("common.search")}
          />
          <Button type="submit" variant="light">
            {t("common.search")}
          </Button>
        </Group>
      </form>
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="clients-table"
          minWidth={820}
          {...serverPaged(q, page, PAGE_SIZE, setPage)}
          sort={{
            value: sort,
            onChange: (s) => {
              setSort(s);
              setPage(1);
            },
          }}
          rowKey={(c) => c.id}
          empty={t("clients.empty")}
          onRowClick={(c) => navigate(`/clients/${c.id}`)}
          columns={[
            {
              key: "name",
              header: t("field.name"),
              sortKey: "name",
              render: (c) => (
                <Anchor
                  component={Link}
                  to={`/clients/${c.id}`}
                  fw={500}
                  onClick={(e) => e.stopPropagation()}
                >
                  {c.name}
                </Anchor>
              ),
            },
            { key: "email", header: t("field.email"), sortKey: "email", render: (c) => c.email },
            {
              key: "id",
              header: t("clients.userId"),
              render: (c) => <Text className="mono">{c.id}</Text>,
            },
            { key: "group", header: t("field.group"), render: (c) => c.group ?? "—" },
            {
              key: "portal",
              header: t("clients.portal"),
              render: (c) => <ClientStatusBadge client={c} />,
            },
            {
              key: "created",
              header: t("field.created"),
              sortKey: "created_at",
              render: (c) => <span className="num">{dateTime(c.createdAt)}</span>,
            },
          ]}
        />
      </Paper>
      <CreateClientModal
        opened={opened}
        onClose={close}
        onCreated={(c) => {
          close();
          notifySuccess(t("clients.created", { name: c.name }));
          navigate(`/clients/${c.id}`);
        }}
      />
    </>
  );
}
