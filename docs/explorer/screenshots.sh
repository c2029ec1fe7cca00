#!/usr/bin/env bash
# Re-takes the screenshots in docs/explorer/ with headless Chromium against a running Explorer:
#   attnlab demo --out runs/demo && attnlab demo --minutes 1 --out runs/demo-1min
#   attnlab explore --model runs/demo --port 5199 --no-browser &
#   docs/explorer/screenshots.sh http://127.0.0.1:5199
# For the encoder-decoder and ViT shots, also train (about 2 minutes each) and list them before starting explore:
#   attnlab seq2seq --task reverse --out runs/reverse && attnlab vit --out runs/vit
# Each view is drawn from its URL alone (no clicks), exactly as a shared link would draw it.
set -euo pipefail
base=${1:-http://127.0.0.1:5199}
out=$(cd "$(dirname "$0")" && pwd)
text='text=ROMEO%3A+But+soft%2C+what+light+through+yonder+window+breaks%3F'
shot() {
  local name=$1 query=$2 profile
  profile=$(mktemp -d)
  timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
    --window-size=1500,${3:-1000} --virtual-time-budget=15000 --screenshot="$out/$name.png" "$base/?$query" >/dev/null 2>&1
  rm -rf "$profile"
  echo "$out/$name.png"
}
shot model "$text&view=model&layer=1&head=2"
shot head "$text&view=head&layer=1&heads=0,2,3&head=2" 1050
shot step "$text&view=step&layer=1&head=2" 1150
shot roles "$text&view=roles"
shot intervene "$text&view=intervene&zero=1.2,0.0&mask=6"
shot generate "text=ROMEO%3A+But+soft%2C+what+light&view=generate&layer=2&head=1&temperature=0.8&steps=12"
shot playground "$text&view=playground&layer=1&head=2&prefix=8&tile=8&fstep=3&sweep=performer%3A8%3Bperformer%3A32%3Bperformer%3A128%3Bperformer%3A512&pk=performer%3A32" 1150
shot compare "$text&view=compare&layer=1&head=2"
shot cross "model=runs%2Freverse&text=attention&group=cross&view=model&layer=1&head=0"
shot vit "model=runs%2Fvit&image=5&view=model&layer=1&head=2" 900
