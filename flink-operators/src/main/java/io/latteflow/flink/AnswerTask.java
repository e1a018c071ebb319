package io.latteflow.flink;

import io.latteflow.model.ImageBytes;
import io.latteflow.model.Images;
import io.latteflow.model.LatteFlow;
import io.latteflow.model.VqaRequest;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Visual question answering with sessions: each session key remembers its last image in keyed state, so a
 * follow-up question may come without one; a question without a session leaves no state behind. Images are
 * checked (size, declared pixels, decodability) on arrival.
 */
final class AnswerTask extends LatteTask<QuestionRequest, AnswerResult> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<byte[]> sessionImage;

    @Override
    String name() {
        return "answer";
    }

    @Override
    TypeInformation<QuestionRequest> requestType() {
        return TypeInformation.of(QuestionRequest.class);
    }

    @Override
    String id(QuestionRequest r) {
        return r.id;
    }

    @Override
    void open(KeyedStateStore state) {
        sessionImage = state.getState(new ValueStateDescriptor<>("latte-session-image", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    @Override
    QuestionRequest admit(QuestionRequest r, LatteOptions o, LatteFlow flow) throws Refused {
        if (r.id == null) throw new Refused("id is null");
        byte[] image = sessionImage(r, o);
        // The question is checked after its image joined the session: a bad question is refused alone, and the
        // follow-ups of its session still find the image it brought (issue 19: one empty question in the demo
        // dead-lettered every question after it, "session has no earlier image").
        String why = o.limits().questionRefusal(r.question);
        if (why != null) throw new Refused(why);
        return QuestionRequest.of(r.id, r.session, image, r.question);
    }

    /** The request's image, checked and remembered for its session, or the session's earlier image. */
    private byte[] sessionImage(QuestionRequest r, LatteOptions o) throws Refused {
        byte[] image = r.image;
        try {
            if (image == null) {
                image = sessionImage.value();
                if (image == null) {
                    throw new Refused("image is null and session " + (r.session == null ? "(none)" : r.session) + " has no earlier image");
                }
            } else {
                if (image.length > o.maxImageBytes()) {
                    throw new Refused("image has " + image.length + " bytes, more than latte.max-image-bytes = " + o.maxImageBytes());
                }
                ImageBytes.decode(image, o.maxImagePixels());
                // Only a session has follow-ups. A question without one is keyed by its id, and remembering its image
                // there kept every such image in keyed state for good: the state (and each checkpoint) grew by an
                // image per answered question (issue 19, found building the soak).
                if (r.session != null) sessionImage.update(image);
            }
        } catch (ImageBytes.BadImage e) {
            throw new Refused(e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return image;
    }

    @Override
    List<AnswerResult> run(LatteFlow flow, List<QuestionRequest> batch, LatteOptions options) {
        List<VqaRequest> requests = new ArrayList<>(batch.size());
        for (QuestionRequest r : batch) {
            BufferedImage img;
            try {
                img = ImageBytes.decode(r.image, options.maxImagePixels());
            } catch (ImageBytes.BadImage e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            requests.add(VqaRequest.of(flow.readableImage(img), r.question).withMaxNewTokens(options.maxNewTokens()));
        }
        List<String> answers = flow.answer(requests);
        List<AnswerResult> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            AnswerResult a = new AnswerResult();
            a.id = batch.get(i).id;
            a.session = batch.get(i).session;
            a.question = batch.get(i).question;
            a.answer = answers.get(i);
            out.add(a);
        }
        return out;
    }

    @Override
    void served(AnswerResult result, int batchSize, double latencyMs) {
        result.batchSize = batchSize;
        result.latencyMs = latencyMs;
    }
}
