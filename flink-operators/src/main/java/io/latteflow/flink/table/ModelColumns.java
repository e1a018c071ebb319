package io.latteflow.flink.table;

import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;

import java.io.Serializable;
import java.util.List;

/**
 * Where a model's inputs and outputs sit in the rows ML_PREDICT passes and expects. Columns are told apart by
 * type, not by name, so {@code INPUT (question STRING, img BYTES)} works as well as the documented order; only
 * the optional {@code error} output is found by name.
 *
 * <pre>{@code
 * ModelColumns cols = ModelColumns.of(LatteFlowTask.ANSWER, model.getResolvedInputSchema(),
 *         model.getResolvedOutputSchema(), "`cat`.`db`.`reader`");
 * int imageAt = cols.imageInput();
 * }</pre>
 *
 * @param imageInput    vqa: position of the image bytes in the input row; -1 for generate
 * @param textInput     position of the prompt (generate) or question (vqa)
 * @param outputArity   number of output columns
 * @param resultOutput  position of the image (generate) or answer (vqa) in the output row
 * @param errorOutput   position of the {@code error} column, -1 when the model has none
 */
record ModelColumns(int imageInput, int textInput, int outputArity, int resultOutput, int errorOutput)
        implements Serializable {
    static final String ERROR_COLUMN = "error";

    static ModelColumns of(LatteFlowTask task, ResolvedSchema input, ResolvedSchema output, String model) {
        List<Column> in = input.getColumns();
        int image = -1;
        int text;
        if (task == LatteFlowTask.GENERATE) {
            if (in.size() != 1 || !isString(in.get(0))) {
                throw invalid(model, "a 'generate' model takes one STRING input (the prompt), got INPUT " + describe(in));
            }
            text = 0;
        } else {
            if (in.size() != 2) {
                throw invalid(model, "an 'answer' model takes INPUT (image BYTES, question STRING), got INPUT " + describe(in));
            }
            image = indexOf(in, LogicalTypeFamily.BINARY_STRING);
            text = indexOf(in, LogicalTypeFamily.CHARACTER_STRING);
            if (image < 0 || text < 0) {
                throw invalid(model, "an 'answer' model takes one BYTES and one STRING input, got INPUT " + describe(in));
            }
        }

        List<Column> out = output.getColumns();
        int error = -1;
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).getName().equalsIgnoreCase(ERROR_COLUMN) && out.size() > 1) error = i;
        }
        if (error >= 0 && !isString(out.get(error))) {
            throw invalid(model, "the '" + ERROR_COLUMN + "' output column must be STRING, got " + describe(out));
        }
        int result = error == 0 ? 1 : 0;
        boolean resultTypeOk = task == LatteFlowTask.GENERATE
                ? has(out.get(result), LogicalTypeFamily.BINARY_STRING) : isString(out.get(result));
        if (out.size() > 2 || (out.size() == 2 && error < 0) || !resultTypeOk) {
            String expected = task == LatteFlowTask.GENERATE ? "(image BYTES)" : "(answer STRING)";
            throw invalid(model, "a '" + task.name().toLowerCase() + "' model has OUTPUT " + expected
                    + ", optionally with an 'error STRING' column, got OUTPUT " + describe(out));
        }
        return new ModelColumns(image, text, out.size(), result, error);
    }

    private static int indexOf(List<Column> cols, LogicalTypeFamily family) {
        for (int i = 0; i < cols.size(); i++) if (has(cols.get(i), family)) return i;
        return -1;
    }

    private static boolean isString(Column c) {
        return has(c, LogicalTypeFamily.CHARACTER_STRING);
    }

    private static boolean has(Column c, LogicalTypeFamily family) {
        LogicalType t = c.getDataType().getLogicalType();
        return t.is(family);
    }

    private static String describe(List<Column> cols) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < cols.size(); i++) {
            if (i > 0) s.append(", ");
            s.append(cols.get(i).getName()).append(' ').append(cols.get(i).getDataType().getLogicalType().asSummaryString());
        }
        return s.append(')').toString();
    }

    private static ValidationException invalid(String model, String why) {
        return new ValidationException("latte-flow model " + model + ": " + why);
    }
}
