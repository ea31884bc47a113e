package whop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fastWireData is payment (and refund, dispute, membership) data the
// package's tests use, of every generation, plus shapes at the edges of what
// the fast path reads. The fixtures in testdata are added to it.
var fastWireData = []string{
	// payments_test, event_test, membership_test
	`{"total":0.29}`, `{"total":"0.29"}`, `{"total":1e2}`, `{"total":19.99,"currency":"EUR"}`,
	`{"total":500,"currency":"jpy"}`, `{"total":1.234,"currency":"kwd"}`, `{"total":4.999}`,
	`{"total":{"amount":4.99}}`, `{"total":null}`, `{"final_amount":3,"total":4}`,
	`{"total":"abc"}`, `{"currency":"u s d"}`, `{"created_at":"yesterday"}`, `[1]`, `{"total":1e99999}`,
	`{"checkout_configuration_id":"ch_1","metadata":{"k":"v"}}`,
	`{"checkout_request_id":"ch_2","membership_metadata":{"k":"m"}}`,
	`{"checkout_id":"ch_3","metadata":{"k":"p"},"membership_metadata":{"k":"m"}}`,
	`{"id":"mem_1","page_id":"biz_1","valid":true,"status":"expired"}`,
	`{"id":"rfnd_2","status":"pending","amount":"1.50","currency":"usd","created_at":1735776000,"payment_id":"pay_6dWDN0kA5QW2hm"}`,
	`{"id":"dspt_2","status":"won","amount":500,"currency":"jpy","created_at":"1735776000","payment_id":"pay_2","payment":{"id":"pay_2","final_amount":500,"currency":"jpy","user_id":"user_1"}}`,
	`{"id":"mem_1","status":"active","plan":{"id":"plan_p"},"product":{"id":"prod_p"},"user":{"id":"user_1","username":"alice"},"metadata":{"experience_id":"exp_1"}}`,
	`{"id":"mem_1","product_id":"prod_p","user_id":"user_1","plan_id":"plan_p","status":"active","valid":false,"metadata":{}}`,
	`{"amount":1,"payment":{"currency":"$$"}}`, `{}`, `null`, `"pay_1"`, ``, ` `,
	// every kind of value in every kind of field
	`{"id":1,"status":true,"substatus":false,"currency":null,"user":"user_1","plan":7,"product":["prod_1"],"company":{}}`,
	`{"subtotal":"  4.99 ","total":-0,"usd_total":1.5E+2,"amount_after_fees":true,"refunded_amount":[1]}`,
	`{"created_at":1735689600.5,"updated_at":"1735689600123","paid_at":-1,"refunded_at":"  "}`,
	`{"created_at":"2025-01-01T00:00:00+02:00","paid_at":{"t":1},"updated_at":false}`,
	`{"created_at":"1735689600.x"}`, `{"created_at":"-"}`, `{"created_at":99999999999999999999}`,
	`{"refundable":"true"}`, `{"refundable":"false"}`, `{"refundable":"yes"}`, `{"refundable":null}`, `{"refundable":0}`,
	`{"user":{"id":"u","username":"n","name":"N","email":"e","status":"s","route":"r","title":"t","extra":{"a":[]}}}`,
	`{"user":{"id":1,"email":null}}`, `{"user":{"ID":"u"}}`, `{"user":{"id":"a","id":"b"}}`, `{"user":{"id":"\u0075"}}`,
	`{"metadata":{"a":"x","b":1,"c":true,"d":null,"e":{ "f" : [ 1 , 2 ] },"g":-1.5e3,"h":[]}}`,
	`{"metadata":{"a":"x","a":null}}`, `{"metadata":{"a":null,"a":"y"}}`, `{"metadata":{"a":"1","a":"2"}}`,
	`{"metadata":{"k\u00e9y":"v","caf\u00e9":"\u00e9","\ud83d\ude00":"\n"}}`, `{"metadata":[]}`, `{"metadata":"x"}`,
	`{"metadata":{"a":"x"},"membership_metadata":null}`,
	// escapes and non-ASCII in values
	`{"id":"pay_\u0031","status":"p\"a\\i\/d","card_brand":"vis\u00e0","failure_message":"caf` + "\xc3\xa9" + `","email":"` + "\xff" + `"}`,
	"{\"id\":\"a\x7fb\"}",
	// what the fast path declines: encoding/json decides
	`{"ID":"pay_1"}`, `{"Id":"pay_1","Status":"paid"}`, `{"\u0069d":"pay_1"}`, `{"ſtatus":"paid"}`, `{"id":"a","id":"b"}`,
	`{"Unknown":1}`, `{"total":"1","total":null}`,
	strings.Repeat(`{"x":`, 40) + `1` + strings.Repeat(`}`, 40),
	`{"x":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`,
	// malformed
	`{"id":"a"} x`, `{"id":"a"}{}`, `{"id":"a",}`, `{"id":01}`, `{"id":1.}`, `{"id":.5}`, `{"id":1e}`, `{"id":-}`,
	`{"id":tru}`, `{"id":nul}`, `{"id":"a}`, `{"id":"\x"}`, `{"id":"\u12"}`, "{\"id\":\"a\tb\"}", `{"id" "a"}`,
	`{id:"a"}`, `{"id":"a"`, `{"a":[1,]}`, `{"a":[1 2]}`, "{\"id\":\"a\"}\v", "\v{\"id\":\"a\"}", `{"a":{"b":}}`,
}

// fastWireBodies are webhook bodies the package's tests sign.
var fastWireBodies = []string{
	benchWebhookBody,
	`{"id":"msg_test","api_version":"v1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00.000Z","data":{"id":"pay_test"}}`,
	`{"action":"payment.succeeded","api_version":"v5","data":{"id":"pay_test"}}`,
	`{"type":"payment.succeeded"}`, `{"data":{}}`, `{"type":"x"}`,
	`{"action":"app_payment.succeeded","api_version":"v5","company":"biz_9","data":{"id":"pay_1","final_amount":4.99,"currency":"usd"}}`,
	`{"id":"msg_1","api_version":"v1","type":"payment.succeeded","timestamp":"2025-01-01T00:00:00.000Z","data":{"id":"pay_1"},"company_id":"biz_1"}`,
	`{"type":"refund.created","data":null}`, `{"type":"dispute.created","data":[]}`,
	`{"action":"membership.went_valid","data":"mem_1"}`,
	`{"type":"membership.deactivated","company_id":"biz_7","timestamp":"not a time","previous_attributes":{"status":"active"},"data":{}}`,
	`{"action":"payment.succeeded","company":null,"data":{}}`,
	`{"type":"payment.succeeded","account_id":"biz_2","company":{"id":"biz_3"},"timestamp":1735689600,"data":{"id":"p"}}`,
	` {"type":"payment.succeeded","data": {"id":"p"} } `, "\n{\"type\":\"a\",\"data\":\t{}}\r\n",
	`{"type":"payment.succeeded","Type":"x","data":{}}`, `{"type":"a","type":"b"}`, `{"type":"a","data":{},"data":{}}`,
	`{"type":"a","data":{"id":"x"} ,}`, `{"type":"a"}` + "\xc2\xa0",
}

// fastWireCorpus is every data object above, fixtures included, each also
// wrapped in the v1 and legacy envelopes the tests use, and every body.
func fastWireCorpus(t testing.TB) [][]byte {
	t.Helper()
	data := append([]string(nil), fastWireData...)
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) < 4 {
		t.Fatalf("fixtures: %v, %v", paths, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, string(b))
	}
	v1 := fixture(t, "payment_v1.json")
	data = append(data,
		`{"id":"rfnd_1","amount":8.99,"currency":"usd","status":"succeeded","created_at":"2025-01-02T00:00:00.000Z","payment":`+
			strings.Replace(v1, `"substatus": "succeeded"`, `"substatus": "refunded"`, 1)+`}`,
		`{"id":"dspt_1","amount":8.99,"status":"needs_response","reason":"fraudulent","payment":`+
			strings.Replace(v1, `"currency": "usd"`, `"currency": "eur"`, 1)+`}`)
	var out [][]byte
	for _, d := range data {
		out = append(out, []byte(d),
			[]byte(v1Envelope(EventPaymentSucceeded, d)), []byte(legacyEnvelope(EventAppPaymentSucceeded, d)))
	}
	for _, b := range fastWireBodies {
		out = append(out, []byte(b))
	}
	return out
}

// checkFastWire requires the fast path, wherever it reads in, to read it
// exactly as encoding/json does, in the envelope (given the trimmed body,
// as parseEnvelope gives it) and in a payment.
func checkFastWire(t testing.TB, in []byte) (envelope, payment bool) {
	t.Helper()
	trimmed := bytes.TrimSpace(in)
	if got, ok := fastEnvelope(trimmed); ok {
		var want wireEvent
		if err := json.Unmarshal(trimmed, &want); err != nil {
			t.Fatalf("fast path read envelope %q; encoding/json refuses it: %v", in, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("envelope %q:\nfast path     %#v\nencoding/json %#v", in, *got, want)
		}
		envelope = true
	}
	if got, ok := fastPayment(in); ok {
		var want wirePayment
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatalf("fast path read payment %q; encoding/json refuses it: %v", in, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("payment %q:\nfast path     %#v\nencoding/json %#v", in, *got, want)
		}
		payment = true
	}
	return envelope, payment
}

// received is everything a receiver can get from a body: the event of each
// scheme and what each typed decoder makes of its data, errors as text.
func received(body []byte) []any {
	var out []any
	add := func(v any, err error) {
		if err != nil {
			out = append(out, "error: "+err.Error())
			return
		}
		out = append(out, v)
	}
	for _, scheme := range []Scheme{SchemeStandard, SchemeLegacy} {
		ev, err := Delivery{ID: "msg_1", Scheme: scheme, Unix: testNow.Unix()}.Decode(body)
		add(ev, err)
		if err != nil {
			continue
		}
		add(ev.Payment())
		add(ev.Refund())
		add(ev.Dispute())
		add(ev.Membership())
	}
	return out
}

// show prints what received returned, following pointers.
func show(vs []any) string {
	var b strings.Builder
	for _, v := range vs {
		if r := reflect.ValueOf(v); r.Kind() == reflect.Pointer && !r.IsNil() {
			v = r.Elem().Interface()
		}
		fmt.Fprintf(&b, "\n\t%+v", v)
	}
	return b.String()
}

// checkReceived requires the same results and errors with the fast path
// as without it.
func checkReceived(t testing.TB, body []byte) {
	t.Helper()
	fast := received(body)
	fastWire = false
	defer func() { fastWire = true }() // a panic in received must not leave the rest of the run on the slow path
	slow := received(body)
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("body %q:\nfast path     %s\nencoding/json %s", body, show(fast), show(slow))
	}
}

// TestFastWireIsEncodingJSON holds the fast path to encoding/json over the
// package's fixtures and test data of every generation, both envelopes,
// and inputs at the edges of what it reads: the wire structs it fills
// must be encoding/json's, and so must everything a receiver gets,
// errors included.
func TestFastWireIsEncodingJSON(t *testing.T) {
	read := 0
	for _, in := range fastWireCorpus(t) {
		env, pay := checkFastWire(t, in)
		if env || pay {
			read++
		}
		checkReceived(t, in)
	}
	t.Logf("the fast path read %d inputs of %d", read, len(fastWireCorpus(t)))
}

// TestFastWireReadsWhopsShape checks the fast path is taken, not declined,
// for what Whop sends: the bench's body, and each fixture as data and in
// either envelope.
func TestFastWireReadsWhopsShape(t *testing.T) {
	if env, _ := checkFastWire(t, []byte(benchWebhookBody)); !env {
		t.Error("the fast path declined the bench's body")
	}
	ev, err := Delivery{ID: "msg_1", Scheme: SchemeStandard}.Decode([]byte(benchWebhookBody))
	if err != nil {
		t.Fatal(err)
	}
	if _, pay := checkFastWire(t, ev.Data); !pay {
		t.Error("the fast path declined the bench's payment")
	}
	for _, name := range []string{"payment_v1.json", "payment_v2.json", "payment_v2_expanded.json", "payment_v5.json"} {
		d := fixture(t, name)
		if _, pay := checkFastWire(t, []byte(d)); !pay {
			t.Errorf("%s: the fast path declined the payment", name)
		}
		for _, body := range []string{v1Envelope(EventPaymentSucceeded, d), legacyEnvelope(EventAppPaymentSucceeded, d)} {
			if env, _ := checkFastWire(t, []byte(body)); !env {
				t.Errorf("%s: the fast path declined the envelope %.40s…", name, body)
			}
		}
	}
}

// TestFastWireDeclines lists what the fast path leaves to encoding/json.
func TestFastWireDeclines(t *testing.T) {
	for _, in := range []string{
		`{"ID":"pay_1"}`,              // encoding/json matches keys regardless of case
		`{"Unknown":1}`,               // so any key with an upper-case letter is its
		`{"\u0069d":"pay_1"}`,         // escaped key
		`{"ſtatus":"paid"}`,           // non-ASCII key ("ſ" folds to "s")
		`{"id":"a","id":"b"}`,         // a field twice
		`{"created_at":"yesterday"}`,  // a field's own error
		`{"id":"a"} x`, `{"id":"a",}`, // malformed
		`{"id":"\u12"}`, "{\"id\":\"\t\"}", // bad escape, raw control character
		strings.Repeat(`{"x":`, 40) + `1` + strings.Repeat(`}`, 40), // nesting past maxFastDepth
		`[1]`, `null`, ``,
	} {
		if _, ok := fastPayment([]byte(in)); ok {
			t.Errorf("fast path read %q", in)
		}
		checkFastWire(t, []byte(in))
		checkReceived(t, []byte(v1Envelope(EventPaymentSucceeded, in)))
	}
}

// FuzzFastWire requires, for any input, that the fast path either declines
// or reads it exactly as encoding/json does: the input as a body, as a
// payment, and as the data of a body; and that a receiver gets the same
// results and errors either way.
func FuzzFastWire(f *testing.F) {
	for _, in := range fastWireCorpus(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFastWire(t, in)
		checkReceived(t, in)
		body := []byte(`{"type":"payment.succeeded","data":` + string(in) + `}`)
		checkFastWire(t, body)
		checkReceived(t, body)
	})
}
