import { Badge, Code, Spoiler, Text, Title } from "@mantine/core";
import { useState } from "react";
import { dateTimeSeconds } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { type Column, DataTable, serverPaged } from "../../ui/data-table.js";
import { ErrorAlert } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import type { UnroutedCallback, UnroutedSource } from "../types.js";

const PAGE = 25;

export function UnroutedCallbacksPage() {
  const [page, setPage] = useState(1);
  const q = useQuery(
    () =>
      api.GET("/api/platform/callbacks/unrouted", {
        params: { query: { limit: PAGE, offset: (page - 1) * PAGE } },
      }),
    [page],
  );
  const sources = useQuery(() => api.GET("/api/platform/callbacks/unrouted/sources"), []);
  const sourceColumns: Column<UnroutedSource>[] = [
    {
      key: "from",
      header: "Source address",
      render: (r) => <span className="mono">{r.remoteAddr ?? "—"}</span>,
    },
    {
      key: "requests",
      header: "Requests",
      align: "right",
      render: (r) => <span className="num">{r.requests}</span>,
    },
    {
      key: "types",
      header: "Error types",
      render: (r) => (
        <Text size="xs" ff="monospace">
          {r.errorTypes.join(", ") || "—"}
        </Text>
      ),
    },
    { key: "last", header: "Last", render: (r) => dateTimeSeconds(r.lastAt), width: 170 },
  ];
  const columns: Column<UnroutedCallback>[] = [
    { key: "at", header: "Received", render: (r) => dateTimeSeconds(r.createdAt), width: 170 },
    {
      key: "merchant",
      header: "merchant_id / order_no",
      render: (r) => (
        <Text size="xs" ff="monospace">
          {r.merchantId ?? "—"}
          <br />
          {r.orderNo ?? "—"}
        </Text>
      ),
    },
    {
      key: "why",
      header: "Answer",
      render: (r) => (
        <Badge color="red" variant="light">
          {r.httpStatus} {r.errorType ?? r.verdict}
          {r.requestCount > 1 ? ` ×${r.requestCount}` : ""}
        </Badge>
      ),
    },
    {
      key: "reason",
      header: "Reason",
      render: (r) => (
        <Text size="xs" maw={280}>
          {r.errorDetail ?? "—"}
        </Text>
      ),
    },
    { key: "from", header: "From", render: (r) => r.remoteAddr ?? "—" },
    {
      key: "body",
      header: "Body (as stored)",
      render: (r) => (
        <Spoiler maxHeight={40} showLabel="more" hideLabel="less">
          <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
            {r.body}
          </Code>
        </Spoiler>
      ),
    },
  ];
  return (
    <>
      <PageHeader
        title="Unrouted callbacks"
        description="API-2 callbacks no company could be found for: an unknown merchant_id or a body that could not be read. Newest first; the token header is never stored."
      />
      <Title order={4} mt="md" mb="xs">
        By source address, last 24 h
      </Title>
      <ErrorAlert error={sources.error} />
      <DataTable
        columns={sourceColumns}
        rows={sources.data?.sources}
        loading={sources.loading}
        rowKey={(r) => r.remoteAddr ?? ""}
        empty="No unrouted callback in the last 24 h."
        testId="unrouted-sources"
      />
      <Title order={4} mt="lg" mb="xs">
        Every unrouted callback
      </Title>
      <ErrorAlert error={q.error} />
      <DataTable
        columns={columns}
        rowKey={(r) => r.id}
        {...serverPaged(q, page, PAGE, setPage)}
        empty="No unrouted callback."
        testId="unrouted-table"
        minWidth={900}
      />
    </>
  );
}
