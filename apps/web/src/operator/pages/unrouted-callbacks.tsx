import { Badge, Code, Spoiler, Text } from "@mantine/core";
import { useState } from "react";
import { dateTimeSeconds } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { type Column, DataTable, serverPaged } from "../../ui/data-table.js";
import { ErrorAlert } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import type { UnroutedCallback } from "../types.js";

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
