package io.latteflow.model.train;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteModel;
import io.latteflow.model.nn.Net;
import io.latteflow.model.vlm.ImagePatches;
import io.latteflow.model.vlm.PromptBatch;
import io.latteflow.model.vlm.VisionLanguageModel;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Next-token training of the VLM on answers: the loss covers only the answer tokens (and the stop token) that
 * follow an image and a question. Updates {@code model.*} and {@code visual.*} weights.
 *
 * <pre>{@code
 * UnderstandingTrainer t = new UnderstandingTrainer(model, 1e-3);
 * double loss = t.step(images, prompts, answers);
 * }</pre>
 */
public final class UnderstandingTrainer {
    private final LatteModel model;
    private final LatteConfig c;
    private final Adam adam;
    private Net graph;

    public UnderstandingTrainer(LatteModel model, double learningRate) {
        this.model = model;
        this.c = model.config();
        this.adam = new Adam(model.params(), learningRate);
    }

    public Adam adam() {
        return adam;
    }

    /**
     * @param images  each (3, imageSize, imageSize) in [0, 1]
     * @param prompts each {@code <|im_start|><|vision_start|> pads <|vision_end|> question <|im_end|>}
     * @param answers each answer's ids followed by the stop token
     * @return the mean cross-entropy over answer tokens before the update
     */
    public double step(List<INDArray> images, List<int[]> prompts, List<int[]> answers) {
        int batch = prompts.size();
        List<int[]> full = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] s = java.util.Arrays.copyOf(prompts.get(b), prompts.get(b).length + answers.get(b).length);
            System.arraycopy(answers.get(b), 0, s, prompts.get(b).length, answers.get(b).length);
            full.add(s);
        }
        PromptBatch seq = PromptBatch.of(c, full, true, 0);
        int n = seq.length();
        int[] labels = new int[batch * n];
        float[] mask = new float[batch * n];
        for (int b = 0; b < batch; b++) {
            int[] s = full.get(b);
            for (int i = 0; i + 1 < s.length; i++) {
                labels[b * n + i] = s[i + 1];
                mask[b * n + i] = i + 1 >= prompts.get(b).length ? 1 : 0;
            }
        }
        Map<String, INDArray> in = model.vlm().prefillInputs(seq, ImagePatches.patches(c, images));
        in.put("labels", Nd4j.createFromArray(labels).reshape(batch, n));
        in.put("lossMask", Nd4j.create(mask, new long[]{batch, n}, 'c'));
        Net net = graph();
        List<String> wrt = new ArrayList<>();
        for (SDVariable v : net.sd.variables()) if (v.getVariableType() == VariableType.VARIABLE) wrt.add(v.name());
        OutAndGrad r = net.gradients(in, "loss", wrt);
        adam.step(r.getGradients());
        return r.getOutputs().get("loss").getDouble(0);
    }

    private Net graph() {
        if (graph == null) {
            Net net = Net.forTraining(model.params());
            SDVariable[] k = new SDVariable[c.numLayers()], v = new SDVariable[c.numLayers()];
            SDVariable hidden = VisionLanguageModel.buildPrefill(net, c, true, true, c.numLayers(), k, v);
            String head = model.params().has("lm_head.weight") ? "lm_head" : "model.embed_tokens";
            SDVariable logits = net.linear(hidden, head, false);                                  // (batch, n, vocab)
            // log-softmax by hand: SameDiff M2.1 cannot clone its LogSoftMax op when building gradients.
            SDVariable shifted = logits.sub(logits.max(true, 2));
            SDVariable logp = shifted.sub(net.sd.math.log(net.sd.math.exp(shifted).sum(true, 2)));
            SDVariable labels = net.intInput("labels", -1, -1);
            SDVariable mask = net.input("lossMask", -1, -1);
            SDVariable picked = logp.mul(net.sd.oneHot(labels, c.vocabSize()).castTo(logp.dataType())).sum(2);
            picked.mul(mask).sum().neg().div(mask.sum().add(1e-6)).rename("loss");
            graph = net;
        }
        return graph;
    }
}
