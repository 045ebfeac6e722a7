import { Anchor, Button, Code, Group, Modal, Select, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";
import type { paths } from "../../lib/api-schema.js";
import { csvExportUrl } from "../../lib/export-url.js";
import { dateTimeSeconds } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable, type SortState, serverPaged, sortParam } from "../../ui/data-table.js";
import { ErrorAlert, StatusBadge } from "../../ui/feedback.js";
import { api } from "../api.js";
import type { CallbackLogEntry } from "../types.js";

const PAGE_SIZE = 25;
const VERDICTS = ["accepted", "duplicate", "rejected", "review"] as const;
const NEWEST_FIRST: SortState = { key: "created_at", dir: "desc" };
type LogSort = NonNullable<
  NonNullable<paths["/api/admin/integrations/{id}/callbacks"]["get"]["parameters"]["query"]>["sort"]
>;

/** Every API-2 callback an integration received, with its verdict and error type. */
export function CallbackLog({ integrationId }: { integrationId: string }) {
  const [page, setPage] = useState(1);
  const [verdict, setVerdict] = useState<string | null>(null);
  const [sort, setSort] = useState<SortState>(NEWEST_FIRST);
  const [open, setOpen] = useState<CallbackLogEntry | null>(null);
  // The log's filter and order, as the list and its CSV export both take them.
  const listQuery = {
    verdict: (verdict ?? undefined) as CallbackLogEntry["verdict"] | undefined,
    sort: sortParam(sort) as LogSort,
  };
  const q = useQuery(
    () =>
      api.GET("/api/admin/integrations/{id}/callbacks", {
        params: {
          path: { id: integrationId },
          query: { ...listQuery, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
        },
      }),
    [integrationId, page, verdict, sort],
  );

  return (
    <Stack gap="sm">
      <Group>
        <Select
          label={t("callbacks.verdict")}
          placeholder={t("common.all")}
          clearable
          data={VERDICTS.map((v) => ({ value: v, label: t(`status.${v}`) }))}
          value={verdict}
          onChange={(v) => {
            setVerdict(v);
            setPage(1);
          }}
          w={200}
        />
        <Button
          component="a"
          href={csvExportUrl("/api/admin/integrations/{id}/callbacks/export.csv", {
            path: { id: integrationId },
            query: listQuery,
          })}
          download
          variant="default"
          mt="auto"
        >
          {t("callbacks.export")}
        </Button>
      </Group>
      <ErrorAlert error={q.error} />
      <DataTable
        testId="callback-log"
        {...serverPaged(q, page, PAGE_SIZE, setPage)}
        sort={{
          value: sort,
          onChange: (s) => {
            setSort(s);
            setPage(1);
          },
        }}
        rowKey={(r) => r.id}
        empty={t("callbacks.empty")}
        onRowClick={setOpen}
        columns={[
          {
            key: "at",
            header: t("field.time"),
            sortKey: "created_at",
            render: (r) => <span className="num">{dateTimeSeconds(r.createdAt)}</span>,
          },
          {
            key: "orderNo",
            header: t("field.orderNo"),
            render: (r) =>
              r.depositId ? (
                <Anchor
                  component={Link}
                  to={`/deposits/${r.depositId}`}
                  className="mono"
                  onClick={(e) => e.stopPropagation()}
                >
                  {r.orderNo}
                </Anchor>
              ) : (
                <span className="mono">{r.orderNo ?? "—"}</span>
              ),
          },
          {
            key: "source",
            header: t("callbacks.source"),
            render: (r) => t(`source.${r.source}`),
          },
          {
            key: "verdict",
            header: t("callbacks.verdict"),
            sortKey: "verdict",
            render: (r) => <StatusBadge status={r.verdict} />,
          },
          {
            key: "errorType",
            header: t("callbacks.errorType"),
            render: (r) => (r.errorType ? <Code>{r.errorType}</Code> : "—"),
          },
          {
            key: "reason",
            header: t("callbacks.reason"),
            render: (r) =>
              r.errorDetail ? (
                <Text size="sm" lineClamp={2} maw={360}>
                  {r.errorDetail}
                </Text>
              ) : (
                "—"
              ),
          },
          {
            key: "http",
            header: t("callbacks.http"),
            align: "right",
            sortKey: "http_status",
            // A summary of throttled requests shows how many it stands for.
            render: (r) => (r.requestCount > 1 ? `${r.httpStatus} × ${r.requestCount}` : r.httpStatus),
          },
          { key: "from", header: t("callbacks.from"), render: (r) => r.remoteAddr ?? "—" },
        ]}
      />
      <Modal opened={open !== null} onClose={() => setOpen(null)} title={t("callbacks.detail")} size="lg">
        {open ? (
          <Stack gap="xs">
            <Group gap="xs">
              <StatusBadge status={open.verdict} />
              {open.errorType ? <Code>{open.errorType}</Code> : null}
              <Text size="sm" c="dimmed">
                HTTP {open.httpStatus} · {dateTimeSeconds(open.createdAt)}
              </Text>
            </Group>
            {open.errorDetail ? <Refusal entry={open} /> : null}
            {open.httpStatus === 429 ? (
              <Text size="sm">{t("callbacks.throttled", { count: open.requestCount })}</Text>
            ) : null}
            <Text size="sm">
              {t("callbacks.contentType")}: <span className="mono">{open.contentType ?? "—"}</span>
            </Text>
            <Text size="xs" fw={600} tt="uppercase" c="dimmed">
              {t("callbacks.rawBody")}
            </Text>
            <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
              {prettyBody(open.rawBody)}
            </Code>
          </Stack>
        ) : null}
      </Modal>
    </Stack>
  );
}

/** Why a callback was refused: the answer's reason, the check, and what the check compared. */
function Refusal({ entry }: { entry: CallbackLogEntry }) {
  const d = entry.diagnosis;
  return (
    <Stack gap={4} data-testid="callback-refusal">
      <Text size="sm" fw={600}>
        {entry.errorDetail}
      </Text>
      {d ? (
        <Text size="sm" c="dimmed">
          {t("callbacks.check")}: {t(`callbacks.check.${d.check}`)}
        </Text>
      ) : null}
      <LabelledCode label={t("callbacks.stringA")} text={d?.stringA} testId="callback-string-a" />
      <LabelledCode
        label={t("callbacks.stringAParsed")}
        text={d?.stringAParsed}
        testId="callback-string-a-parsed"
      />
      {d?.orderedAmount !== undefined || d?.paidAmount !== undefined ? (
        <Text size="sm" data-testid="callback-amounts">
          {t("callbacks.orderedAmount")}: <span className="num">{d?.orderedAmount ?? "—"}</span> ·{" "}
          {t("callbacks.paidAmount")}: <span className="num">{d?.paidAmount ?? "—"}</span>
        </Text>
      ) : null}
      {d?.orderCurrency ? (
        <Text size="sm">
          {t("callbacks.orderCurrency")}: <span className="mono">{d.orderCurrency}</span>
        </Text>
      ) : null}
      {d?.orderStatus ? (
        <Text size="sm">
          {t("callbacks.orderStatus")}: <StatusBadge status={d.orderStatus} />
        </Text>
      ) : null}
    </Stack>
  );
}

/** A small caps label over a block of text shown as sent (nothing when there is no text). */
function LabelledCode(props: { label: string; text: string | undefined; testId: string }) {
  if (props.text === undefined) return null;
  return (
    <>
      <Text size="xs" fw={600} tt="uppercase" c="dimmed">
        {props.label}
      </Text>
      <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }} data-testid={props.testId}>
        {props.text}
      </Code>
    </>
  );
}

function prettyBody(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}
