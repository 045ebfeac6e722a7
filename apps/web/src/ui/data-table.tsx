import { Center, Group, Loader, Pagination, ScrollArea, Table, Text, UnstyledButton } from "@mantine/core";
import { type ReactNode, useMemo, useState } from "react";
import { t } from "../i18n/index.js";
import { IconChevronDown, IconChevronUp, IconSelector } from "./icons.js";

export interface Column<Row> {
  key: string;
  header: ReactNode;
  render: (row: Row) => ReactNode;
  /** Makes the column sortable in a table that holds the whole list (client-side paging). */
  sortValue?: (row: Row) => string | number | bigint;
  /**
   * Makes the column sortable on the server: the `sort` column name the list's API takes. Used
   * with `sort`, for a server-paged table, which must sort the whole list, not the page shown.
   */
  sortKey?: string;
  width?: number | string;
  align?: "left" | "right" | "center";
}

export type SortDir = "asc" | "desc";
export interface SortState {
  key: string;
  dir: SortDir;
}

/** The list API's `sort` parameter (`column:dir`) for a sort state. */
export const sortParam = (s: SortState): string => `${s.key}:${s.dir}`;

/** A `sort` parameter read back (from the page's URL); `fallback` when absent or malformed. */
export function parseSortParam(value: string | null, fallback: SortState): SortState {
  const m = value ? /^([a-z_]+):(asc|desc)$/.exec(value) : null;
  return m ? { key: m[1] as string, dir: m[2] as SortDir } : fallback;
}

export interface ServerSort {
  value: SortState;
  onChange: (sort: SortState) => void;
}

export interface ServerPaging {
  page: number;
  pageSize: number;
  total: number;
  onPageChange: (page: number) => void;
}

interface DataTableProps<Row> {
  columns: Column<Row>[];
  rows: Row[] | undefined;
  rowKey: (row: Row) => string;
  loading?: boolean;
  empty?: ReactNode;
  onRowClick?: (row: Row) => void;
  /** Server-side paging (the API returns one page and a total); otherwise pages client-side. */
  paging?: ServerPaging;
  /** Server-side sorting (columns with `sortKey`): the API orders the whole list. */
  sort?: ServerSort;
  pageSize?: number;
  defaultSort?: SortState;
  testId?: string;
  minWidth?: number;
}

/**
 * The `rows`, `loading` and `paging` of a `DataTable` that shows one page of a paged list query
 * (an answer of `{ items, total }`): spread them into the table.
 */
export function serverPaged<Row>(
  q: { data: { items: Row[]; total: number } | undefined; loading: boolean },
  page: number,
  pageSize: number,
  onPageChange: (page: number) => void,
): Pick<DataTableProps<Row>, "rows" | "loading" | "paging"> {
  return {
    rows: q.data?.items,
    loading: q.loading,
    paging: { page, pageSize, total: q.data?.total ?? 0, onPageChange },
  };
}

/**
 * A table with sortable headers and pagination on Mantine's Table and Pagination. A table that
 * holds the whole list sorts and pages it here; a server-paged one (`paging`) shows one page of
 * the server's order, and its headers sort through `sort` (the API orders the whole list), never
 * just the rows shown.
 */
export function DataTable<Row>(props: DataTableProps<Row>) {
  const { columns, rows, rowKey, loading, onRowClick, paging } = props;
  const pageSize = props.pageSize ?? 20;
  const [localSort, setLocalSort] = useState(props.defaultSort ?? null);
  const [clientPage, setClientPage] = useState(1);
  const serverSort = props.sort;
  const sort = serverSort ? serverSort.value : localSort;
  const sortable = (c: Column<Row>) =>
    serverSort ? c.sortKey !== undefined : !paging && c.sortValue !== undefined;
  const keyOf = (c: Column<Row>) => (serverSort ? (c.sortKey ?? c.key) : c.key);

  const sorted = useMemo(() => {
    if (!rows) return [];
    if (paging || serverSort) return rows;
    const col = sort && columns.find((c) => c.key === sort.key);
    if (!sort || !col?.sortValue) return rows;
    const get = col.sortValue;
    const factor = sort.dir === "asc" ? 1 : -1;
    return [...rows].sort((a, b) => {
      const va = get(a);
      const vb = get(b);
      return (va < vb ? -1 : va > vb ? 1 : 0) * factor;
    });
  }, [rows, sort, columns, paging, serverSort]);

  const pageCount = paging
    ? Math.max(1, Math.ceil(paging.total / paging.pageSize))
    : Math.max(1, Math.ceil(sorted.length / pageSize));
  const page = paging ? paging.page : Math.min(clientPage, pageCount);
  const visible = paging ? sorted : sorted.slice((page - 1) * pageSize, page * pageSize);

  const next = (s: SortState | null, key: string): SortState =>
    s?.key === key ? { key, dir: s.dir === "asc" ? "desc" : "asc" } : { key, dir: "asc" };
  const toggle = (key: string) =>
    serverSort ? serverSort.onChange(next(serverSort.value, key)) : setLocalSort((s) => next(s, key));

  return (
    <div data-testid={props.testId}>
      <ScrollArea type="auto">
        <Table
          striped
          highlightOnHover={!!onRowClick}
          verticalSpacing="xs"
          miw={props.minWidth ?? 600}
          aria-busy={loading ? "true" : "false"}
        >
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th
                  key={c.key}
                  w={c.width}
                  aria-sort={
                    sortable(c) && sort?.key === keyOf(c)
                      ? sort.dir === "asc"
                        ? "ascending"
                        : "descending"
                      : undefined
                  }
                  style={{ textAlign: c.align ?? "left", whiteSpace: "nowrap" }}
                >
                  {sortable(c) ? (
                    <UnstyledButton
                      onClick={() => toggle(keyOf(c))}
                      aria-label={t("table.sortBy", { column: String(c.header) })}
                      fw={600}
                      fz="sm"
                    >
                      <Group gap={4} wrap="nowrap" justify={c.align === "right" ? "flex-end" : "flex-start"}>
                        {c.header}
                        {sort?.key === keyOf(c) ? (
                          sort.dir === "asc" ? (
                            <IconChevronUp size={14} />
                          ) : (
                            <IconChevronDown size={14} />
                          )
                        ) : (
                          <IconSelector size={14} opacity={0.5} />
                        )}
                      </Group>
                    </UnstyledButton>
                  ) : (
                    c.header
                  )}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {visible.map((row) => (
              <Table.Tr
                key={rowKey(row)}
                // A link in the row navigates by itself: the row navigating too would push a
                // second history entry, and Back would seem to do nothing.
                onClick={
                  onRowClick
                    ? (e) => {
                        if (!(e.target as Element).closest("a")) onRowClick(row);
                      }
                    : undefined
                }
                style={onRowClick ? { cursor: "pointer" } : undefined}
              >
                {columns.map((c) => (
                  <Table.Td key={c.key} style={{ textAlign: c.align ?? "left" }}>
                    {c.render(row)}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
      {loading && !rows?.length ? (
        <Center py="lg">
          <Loader size="sm" />
        </Center>
      ) : null}
      {!loading && rows && rows.length === 0 ? (
        <Text c="dimmed" ta="center" py="lg">
          {props.empty ?? t("table.empty")}
        </Text>
      ) : null}
      {pageCount > 1 ? (
        <Group justify="flex-end" mt="sm">
          <Pagination
            total={pageCount}
            value={page}
            onChange={paging ? paging.onPageChange : setClientPage}
            size="sm"
            getControlProps={(control) => ({
              "aria-label": control === "previous" ? t("table.previous") : t("table.next"),
            })}
          />
        </Group>
      ) : null}
    </div>
  );
}
