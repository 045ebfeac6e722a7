/**
 * Every column of a table, checked by the compiler: a column added to the table must be added
 * to the list. For hand-written SQL that names its columns instead of `select *` (a named
 * statement on PostgreSQL must keep its result's shape when a migration adds a column).
 */
export function allColumns<T>() {
  return <const C extends readonly (keyof T & string)[]>(
    cols: C & ([Exclude<keyof T, C[number]>] extends [never] ? unknown : never),
  ) => cols;
}
