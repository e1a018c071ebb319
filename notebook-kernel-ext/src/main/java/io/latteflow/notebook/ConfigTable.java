package io.latteflow.notebook;

import io.latteflow.model.LatteConfig;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model config as a two-column HTML table, one row per {@link LatteConfig} field, in declaration order.
 *
 * <pre>{@code
 * String html = ConfigTable.html(flow.config());
 * }</pre>
 */
public final class ConfigTable {
    private ConfigTable() {
    }

    public static Map<String, Object> fields(LatteConfig config) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RecordComponent c : LatteConfig.class.getRecordComponents()) {
            try {
                out.put(c.getName(), c.getAccessor().invoke(config));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("LatteConfig." + c.getName() + " is unreadable", e);
            }
        }
        return out;
    }

    public static String html(LatteConfig config) {
        return table(fields(config));
    }

    static String table(Map<String, ?> rows) {
        StringBuilder html = new StringBuilder("<table class=\"latte-config\"><thead><tr><th style=\"text-align:left\">field</th>"
                + "<th style=\"text-align:left\">value</th></tr></thead><tbody>");
        rows.forEach((k, v) -> html.append("<tr><td style=\"text-align:left\"><code>").append(Html.escape(k))
                .append("</code></td><td style=\"text-align:left\">").append(Html.escape(String.valueOf(v))).append("</td></tr>"));
        return html.append("</tbody></table>").toString();
    }
}
