package io.latteflow.flink.table;

import io.latteflow.model.GeneratedImage;
import io.latteflow.model.GenerationRequest;
import io.latteflow.model.ImageBytes;
import io.latteflow.model.RequestLimits;
import io.latteflow.model.Images;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Turns ML_PREDICT input rows into model calls and model results into output rows, one output row per input row
 * in the same order. A row the model cannot take (null prompt, bytes that are not an image, a prompt the model
 * rejects) gets a null result and, when the model declares one, a message in its {@code error} column, so that one
 * bad row never fails the job. Failures that are not about a row (out of memory, a broken checkpoint) still do.
 *
 * <pre>{@code
 * RowPredictor p = new RowPredictor(settings, flow, why -> badRows.inc());
 * List<RowData> out = p.predict(List.of(GenericRowData.of(StringData.fromString("red apple"))));
 * }</pre>
 */
final class RowPredictor {
    private final ModelSettings settings;
    private final LatteFlow flow;
    private final Consumer<String> onBadRow;

    RowPredictor(ModelSettings settings, LatteFlow flow, Consumer<String> onBadRow) {
        this.settings = settings;
        this.flow = flow;
        this.onBadRow = onBadRow;
    }

    /** Thrown while building a request: the row, not the model, is at fault. */
    private static final class BadRow extends Exception {
        BadRow(String message) {
            super(message);
        }
    }

    private interface RequestMaker<R> {
        R make(RowData row) throws BadRow;
    }

    List<RowData> predict(List<RowData> rows) {
        return settings.task() == LatteFlowTask.GENERATE
                ? run(rows, this::generationRequest, flow::generate, img -> ((GeneratedImage) img).png())
                : run(rows, this::vqaRequest, flow::answer, answer -> StringData.fromString((String) answer));
    }

    private <R> List<RowData> run(List<RowData> rows, RequestMaker<R> maker, Function<List<R>, List<?>> model,
                                  Function<Object, Object> toField) {
        RowData[] out = new RowData[rows.size()];
        List<R> requests = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            try {
                requests.add(maker.make(rows.get(i)));
                at.add(i);
            } catch (BadRow | IllegalArgumentException e) {
                out[i] = failed(e.getMessage());
            }
        }
        if (!requests.isEmpty()) {
            List<?> results;
            try {
                results = model.apply(requests);
            } catch (IllegalArgumentException batchRejected) {
                // One request the model refuses sinks its whole batch; run them alone to find which.
                results = null;
            }
            for (int j = 0; j < requests.size(); j++) {
                int i = at.get(j);
                if (results != null) {
                    out[i] = succeeded(toField.apply(results.get(j)));
                    continue;
                }
                try {
                    out[i] = succeeded(toField.apply(model.apply(List.of(requests.get(j))).get(0)));
                } catch (IllegalArgumentException e) {
                    out[i] = failed(e.getMessage());
                }
            }
        }
        return List.of(out);
    }

    private GenerationRequest generationRequest(RowData row) throws BadRow {
        int p = settings.columns().textInput();
        if (row.isNullAt(p)) throw new BadRow("prompt is null");
        GenerationRequest r = GenerationRequest.of(row.getString(p).toString()).withSeed(settings.seed());
        if (settings.steps() != null) r = r.withSteps(settings.steps());
        if (settings.guidance() != null) r = r.withGuidance(settings.guidance());
        String why = RequestLimits.DEFAULTS.refusal(r);
        if (why != null) throw new BadRow(why);
        return r;
    }

    private VqaRequest vqaRequest(RowData row) throws BadRow {
        ModelColumns c = settings.columns();
        if (row.isNullAt(c.imageInput())) throw new BadRow("image is null");
        if (row.isNullAt(c.textInput())) throw new BadRow("question is null");
        String why = RequestLimits.DEFAULTS.questionRefusal(row.getString(c.textInput()).toString());
        if (why != null) throw new BadRow(why);
        BufferedImage img;
        try {
            img = ImageBytes.decode(row.getBinary(c.imageInput()), settings.maxImagePixels());
        } catch (ImageBytes.BadImage e) {
            throw new BadRow(e.getMessage());
        }
        BufferedImage sized = flow.readableImage(img);
        return VqaRequest.of(sized, row.getString(c.textInput()).toString()).withMaxNewTokens(settings.maxNewTokens());
    }

    private RowData succeeded(Object result) {
        GenericRowData row = new GenericRowData(settings.columns().outputArity());
        row.setField(settings.columns().resultOutput(), result);
        return row;
    }

    private RowData failed(String why) {
        String message = why == null ? "rejected by the model" : why;
        onBadRow.accept(message);
        GenericRowData row = new GenericRowData(settings.columns().outputArity());
        if (settings.columns().errorOutput() >= 0) {
            row.setField(settings.columns().errorOutput(), StringData.fromString(message));
        }
        return row;
    }
}
