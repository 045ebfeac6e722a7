import { Box, Button, Menu } from "@mantine/core";
import { offeredLocales, setLocale, t, useLocale } from "../i18n/index.js";
import { LOCALES } from "../i18n/locales.js";
import { IconLanguage } from "./icons.js";

/**
 * The language menu: each language under its own name (a reader finds "العربية" in any
 * dictionary). The choice applies at once and is remembered. Nothing when the app offers one.
 */
export function LanguageSwitcher() {
  const current = useLocale();
  const offered = offeredLocales();
  if (offered.length < 2) return null;
  const name = LOCALES[current].nativeName;
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button
          variant="subtle"
          color="gray"
          size="compact-sm"
          leftSection={<IconLanguage />}
          aria-label={t("language.current", { name })}
          data-testid="language-switcher"
        >
          {/* On a phone the globe alone: the header keeps its room for the company's name. */}
          <Box component="span" visibleFrom="xs">
            {name}
          </Box>
        </Button>
      </Menu.Target>
      <Menu.Dropdown aria-label={t("language.label")}>
        {offered.map((tag) => (
          <Menu.Item
            key={tag}
            lang={LOCALES[tag].htmlLang}
            dir={LOCALES[tag].dir}
            aria-current={tag === current ? "true" : undefined}
            fw={tag === current ? 700 : undefined}
            onClick={() => setLocale(tag)}
          >
            {LOCALES[tag].nativeName}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}
