import { Button, Code, Group, Modal, Paper, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { t } from "../../i18n/index.js";
import type { paths } from "../../lib/api-schema.js";
import { dateTimeSeconds } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable, type SortState, serverPaged, sortParam } from "../../ui/data-table.js";
import { ErrorAlert } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { AuditDiff, auditActionLabel } from "../audit-diff.js";
import type { AuditRecord } from "../types.js";
import { useStaff } from "../use-staff.js";

const PAGE_SIZE = 50;
const NEWEST_FIRST: SortState = { key: "created_at", dir: "desc" };
type AuditSort = NonNullable<NonNullable<paths["/api/admin/audit"]["get"]["parameters"]["query"]>["sort"]>;

/** Who did it: the server names users and API keys; "you" marks the logged-in user. */
function useActorNames() {
  const { me } = useStaff();
  return (r: AuditRecord): string => {
    const kind = t(`actor.${r.actorType}`);
    if (!r.actorId) return kind;
    if (r.actorType === "user" && r.actorId === me?.id) return `${kind} ${me.name} (${t("audit.you")})`;
    return `${kind} ${r.actorName ?? r.actorId}`;
  };
}

export function AuditPage() {
  const [action, setAction] = useState("");
  const [targetType, setTargetType] = useState("");
  const [filters, setFilters] = useState({ action: "", targetType: "" });
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState<SortState>(NEWEST_FIRST);
  const [open, setOpen] = useState<AuditRecord | null>(null);
  const actorName = useActorNames();
  const q = useQuery(
    () =>
      api.GET("/api/admin/audit", {
        params: {
          query: {
            ...filters,
            sort: sortParam(sort) as AuditSort,
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
          },
        },
      }),
    [filters, page, sort],
  );

  return (
    <>
      <PageHeader title={t("audit.title")} description={t("audit.description")} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ action: action.trim(), targetType: targetType.trim() });
          setPage(1);
        }}
      >
        <Group mb="md" gap="sm" align="flex-end">
          <TextInput
            label={t("audit.action")}
            placeholder="integration.reveal"
            value={action}
            onChange={(e) => setAction(e.currentTarget.value)}
          />
          <TextInput
            label={t("audit.targetType")}
            placeholder="psp_integration"
            value={targetType}
            onChange={(e) => setTargetType(e.currentTarget.value)}
          />
          <Button type="submit" variant="light">
            {t("common.search")}
          </Button>
        </Group>
      </form>
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="audit-table"
          minWidth={960}
          {...serverPaged(q, page, PAGE_SIZE, setPage)}
          sort={{
            value: sort,
            onChange: (s) => {
              setSort(s);
              setPage(1);
            },
          }}
          rowKey={(r) => r.id}
          empty={t("audit.empty")}
          onRowClick={setOpen}
          columns={[
            {
              key: "at",
              header: t("field.time"),
              sortKey: "created_at",
              render: (r) => <span className="num">{dateTimeSeconds(r.createdAt)}</span>,
            },
            {
              key: "action",
              header: t("audit.action"),
              sortKey: "action",
              render: (r) => (
                <Text size="sm" title={r.action}>
                  {auditActionLabel(r.action)}
                </Text>
              ),
            },
            {
              key: "target",
              header: t("audit.target"),
              render: (r) => (
                <Text size="sm">
                  {r.targetType} <span className="mono">{r.targetId ?? ""}</span>
                </Text>
              ),
            },
            {
              key: "actor",
              header: t("audit.actor"),
              render: (r) => (
                <Text size="sm" title={r.actorId ?? undefined}>
                  {actorName(r)}
                </Text>
              ),
            },
            { key: "ip", header: t("audit.ip"), render: (r) => r.ip ?? "—" },
          ]}
        />
      </Paper>
      <Modal
        opened={open !== null}
        onClose={() => setOpen(null)}
        title={open ? auditActionLabel(open.action) : null}
        size="xl"
      >
        {open ? (
          <Stack gap="xs">
            <Text size="sm">
              {dateTimeSeconds(open.createdAt)} · {actorName(open)} · {open.ip ?? ""}
            </Text>
            <Text size="sm" c="dimmed">
              <Code>{open.action}</Code> {open.targetType} <span className="mono">{open.targetId ?? ""}</span>
            </Text>
            <AuditDiff before={open.before} after={open.after} />
          </Stack>
        ) : null}
      </Modal>
    </>
  );
}
