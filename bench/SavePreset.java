// Saves a freshly initialised preset model (as `latte score --preset NAME --init-seed K` builds it) to a directory.
// NAME may end in "-vanilla" for the preset's Vanilla twin (K = 1, no residual attention: LatteConfig.vanilla()).
// Run with the latte jar on the class path (source-file mode): java -cp examples/target/latte.jar bench/SavePreset.java bench 0 /tmp/dir
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import java.nio.file.Path;

public class SavePreset {
    public static void main(String[] args) throws Exception {
        boolean vanilla = args[0].endsWith("-vanilla");
        LatteConfig config = LatteConfig.preset(vanilla ? args[0].substring(0, args[0].length() - "-vanilla".length()) : args[0]);
        try (LatteFlow flow = LatteFlow.create(vanilla ? config.vanilla() : config, Long.parseLong(args[1]))) {
            flow.save(Path.of(args[2]));
        }
        System.out.println(args[2]);
    }
}
