package io.latteflow.flink;

/** Short, printable quotes of user text for logs, results and dead letters. */
final class Text {
    private static final int MAX = 80;

    private Text() {
    }

    static String quote(String s) {
        if (s == null) return "null";
        String cut = s.length() > MAX ? s.substring(0, MAX) + "...(" + s.length() + " chars)" : s;
        return '"' + cut.replace("\n", "\\n") + '"';
    }
}
