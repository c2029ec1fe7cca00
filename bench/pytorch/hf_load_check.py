# Usage: in a folder holding model/ (written by `attnlab train`), inspect.json (`attnlab inspect --model model --ids ... --json`)
# and generate.json (`attnlab generate --model model --ids ... --temperature 0 --json`, staying within the context).
"""Loads a model directory written by attnlab into Hugging Face transformers and compares it with attnlab's own
logits (inspect --json) and greedy continuation (generate --json).

Needs Hugging Face transformers (the point is that transformers itself loads the folder), unlike
gpt2_step.py and char_train.py, which fall back to the plain-torch GPT-2 in gpt2_plain.py."""
import json, sys
try:
    import torch
    from transformers import GPT2LMHeadModel
except ImportError as e:
    sys.exit(f"hf_load_check.py needs torch and transformers ({e}); install transformers, or run it on a machine that has it")
m = GPT2LMHeadModel.from_pretrained("model", attn_implementation="eager").eval()
ins = json.load(open("inspect.json")); gen = json.load(open("generate.json"))
with torch.no_grad():
    logits = m(torch.tensor([ins["ids"]])).logits[0]
ours = torch.tensor(ins["logits"])
diff = (logits - ours).abs().max().item()
print("max |logits transformers - attnlab| =", diff, "max |logit| =", ours.abs().max().item())
prompt = gen["ids"][:5]
out = m.generate(torch.tensor([prompt]), max_new_tokens=len(gen["ids"]) - 5, do_sample=False,
                 pad_token_id=0, attention_mask=torch.ones(1, 5, dtype=torch.long))[0].tolist()
print("greedy transformers:", out)
print("greedy attnlab     :", gen["ids"])
print("LOGITS_OK" if diff < 1e-4 else "LOGITS_MISMATCH", "GREEDY_OK" if out == gen["ids"] else "GREEDY_MISMATCH")
