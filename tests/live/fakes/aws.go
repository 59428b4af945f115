// AWS stand-ins for the registry check's AWS credentials, each following
// the documented wire format, on its own loopback listener:
//
//   - sts:  the STS query API's AssumeRoleWithWebIdentity (form POST or GET
//     query; checks Action, Version, RoleArn, RoleSessionName and the web
//     identity token; answers the documented XML, or an ErrorResponse);
//   - ecr:  ECR's JSON 1.1 GetAuthorizationToken (POST /, X-Amz-Target,
//     application/x-amz-json-1.1), whose Signature Version 4 is recomputed
//     here with crypto/hmac from the secret of the access key that signed
//     it; answers authorizationData with base64("<user>:<password>");
//   - pod:  the EKS Pod Identity agent (GET, the token file's content as the
//     Authorization header; JSON credentials);
//   - imds: IMDSv2 (PUT /latest/api/token with a TTL header, then the role
//     listing and the role's credentials with that token; 401 without it).
//
// Every access key handed out (and the static one given by flag) is
// remembered with its secret and session token, so a signature made with
// anything else fails as it would at AWS. Counters: /_count?key=sts|ecr|
// pod|imds-token|imds-creds on any listener. Failure modes: /_set?KEY=VALUE
// with sts=ok|deny|throttle|hang, ecr=ok|deny|wrong-password, pod=ok|deny,
// expiry=SECONDS (credentials), ecr-expiry=SECONDS (ECR tokens).
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const ecrTarget = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"

type awsKey struct{ secret, token string }

type awsFake struct {
	mu        sync.Mutex
	cnt       *counter
	keys      map[string]awsKey // access key id -> secret and session token
	serial    int
	mode      map[string]string
	expiry    time.Duration
	ecrExpiry time.Duration

	roleArn, webTokenFile, podTokenFile, region string
	regUser, regPass                            string
}

func (f *awsFake) get(k string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mode[k]
}

// issue hands out a new temporary key with the given prefix.
func (f *awsFake) issue(prefix string) (id string, k awsKey, exp time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serial++
	id = fmt.Sprintf("%s%06d", prefix, f.serial)
	k = awsKey{secret: fmt.Sprintf("secret/%d+%s", f.serial, prefix),
		token: fmt.Sprintf("FwoGZXIvYXdzE%s%d//session==", prefix, f.serial)}
	f.keys[id] = k
	return id, k, time.Now().Add(f.expiry).UTC()
}

func (f *awsFake) control(mux *http.ServeMux) {
	mux.HandleFunc("/_count", f.cnt.handler)
	mux.HandleFunc("/_set", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for k, v := range r.URL.Query() {
			switch k {
			case "expiry", "ecr-expiry":
				s, err := strconv.Atoi(v[0])
				if err != nil {
					w.WriteHeader(400)
					return
				}
				if k == "expiry" {
					f.expiry = time.Duration(s) * time.Second
				} else {
					f.ecrExpiry = time.Duration(s) * time.Second
				}
			default:
				f.mode[k] = v[0]
			}
		}
		fmt.Fprintln(w, "ok")
	})
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "\x00unreadable"
	}
	return strings.TrimSpace(string(b))
}

// hang waits until the client goes away (or a long time has passed).
func hang(r *http.Request) {
	select {
	case <-time.After(30 * time.Second):
	case <-r.Context().Done():
	}
}

// ---- STS ---------------------------------------------------------------------

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>%s</Code>
    <Message>%s</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>
`, code, msg)
}

func (f *awsFake) sts(w http.ResponseWriter, r *http.Request) {
	f.cnt.add("sts")
	if err := r.ParseForm(); err != nil {
		stsError(w, 400, "MalformedInput", "unreadable form")
		return
	}
	switch f.get("sts") {
	case "deny":
		stsError(w, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	case "throttle": // what STS sends when it throttles: 400 with the Throttling code
		stsError(w, 400, "Throttling", "Rate exceeded")
		return
	case "hang":
		hang(r)
		return
	}
	p := r.Form
	switch {
	case p.Get("Action") != "AssumeRoleWithWebIdentity":
		stsError(w, 400, "InvalidAction", "Could not find operation "+p.Get("Action"))
	case p.Get("Version") != "2011-06-15":
		stsError(w, 400, "InvalidParameterValue", "unsupported Version")
	case p.Get("RoleArn") != f.roleArn:
		stsError(w, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	case p.Get("RoleSessionName") == "":
		stsError(w, 400, "ValidationError", "RoleSessionName is required")
	case p.Get("WebIdentityToken") != readTrim(f.webTokenFile):
		stsError(w, 400, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS")
	default:
		id, k, exp := f.issue("ASIASTS")
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:union:imagebuilder-webhook</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>%s/%s</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:%s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>%s</SessionToken>
      <SecretAccessKey>%s</SecretAccessKey>
      <Expiration>%s</Expiration>
      <AccessKeyId>%s</AccessKeyId>
    </Credentials>
    <Provider>oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`, strings.Replace(f.roleArn, ":role/", ":assumed-role/", 1), p.Get("RoleSessionName"),
			p.Get("RoleSessionName"), k.token, k.secret, exp.Format(time.RFC3339), id)
	}
}

// ---- ECR ---------------------------------------------------------------------

func ecrError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sigV4 checks the request's Signature Version 4 against the secret of its
// access key, recomputed from the request as received. It returns the
// access key id, or an error type and message.
func (f *awsFake) sigV4(r *http.Request, body []byte) (string, string, string) {
	auth := r.Header.Get("Authorization")
	const alg = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, alg) {
		return "", "MissingAuthenticationTokenException", "Missing Authentication Token"
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, alg), ",") {
		kv := strings.SplitN(strings.TrimSpace(part), "=", 2)
		if len(kv) == 2 {
			fields[kv[0]] = kv[1]
		}
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[3] != "ecr" {
		return "", "IncompleteSignatureException", "malformed Credential"
	}
	date := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", date)
	if err != nil || !strings.HasPrefix(date, scope[1]) {
		return "", "IncompleteSignatureException", "X-Amz-Date missing or not the scope's date"
	}
	if d := time.Since(t); d > 15*time.Minute || d < -15*time.Minute {
		return "", "InvalidSignatureException", "Signature expired"
	}
	if scope[2] != f.region {
		return "", "InvalidSignatureException", "Credential should be scoped to a valid region, not '" + scope[2] + "'"
	}
	f.mu.Lock()
	k, known := f.keys[scope[0]]
	f.mu.Unlock()
	if !known {
		return "", "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	if k.token != r.Header.Get("X-Amz-Security-Token") {
		return "", "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	need := map[string]bool{"host": true, "x-amz-date": true, "x-amz-target": true, "content-type": true}
	if k.token != "" {
		need["x-amz-security-token"] = true
	}
	var canon strings.Builder
	for _, h := range signed {
		delete(need, h)
		v := r.Header.Values(h)
		if h == "host" {
			v = []string{r.Host}
		}
		for i := range v {
			v[i] = strings.Join(strings.Fields(v[i]), " ")
		}
		canon.WriteString(h + ":" + strings.Join(v, ",") + "\n")
	}
	if len(need) > 0 || !sort.StringsAreSorted(signed) {
		return "", "IncompleteSignatureException", "required headers are not signed"
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	creq := strings.Join([]string{r.Method, path, r.URL.RawQuery, canon.String(),
		fields["SignedHeaders"], sha256Hex(body)}, "\n")
	sts := strings.Join([]string{"AWS4-HMAC-SHA256", date, strings.Join(scope[1:], "/"),
		sha256Hex([]byte(creq))}, "\n")
	key := hmacSHA256([]byte("AWS4"+k.secret), scope[1])
	for _, s := range scope[2:] {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "", "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
	}
	return scope[0], "", ""
}

func (f *awsFake) ecr(w http.ResponseWriter, r *http.Request) {
	f.cnt.add("ecr")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	switch {
	case r.Method != "POST" || r.URL.Path != "/":
		ecrError(w, 404, "UnknownOperationException", "no such operation")
		return
	case r.Header.Get("X-Amz-Target") != ecrTarget:
		ecrError(w, 400, "UnknownOperationException", "unknown X-Amz-Target")
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		ecrError(w, 400, "SerializationException", "wrong Content-Type")
		return
	}
	var in map[string]interface{}
	if json.Unmarshal(body, &in) != nil {
		ecrError(w, 400, "SerializationException", "body is not a JSON object")
		return
	}
	akid, typ, msg := f.sigV4(r, body)
	if akid == "" {
		f.cnt.add("ecr-rejected")
		ecrError(w, 403, typ, msg)
		return
	}
	f.cnt.add("ecr-by-" + akid[:7])
	pass := f.regPass
	switch f.get("ecr") {
	case "deny":
		ecrError(w, 400, "AccessDeniedException", "User is not authorized to perform: ecr:GetAuthorizationToken")
		return
	case "wrong-password":
		pass = "not-the-password"
	}
	f.mu.Lock()
	exp := time.Now().Add(f.ecrExpiry)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]interface{}{
		"authorizationData": []map[string]interface{}{{
			"authorizationToken": base64.StdEncoding.EncodeToString([]byte(f.regUser + ":" + pass)),
			"expiresAt":          float64(exp.UnixMilli()) / 1000,
			"proxyEndpoint":      "https://123456789012.dkr.ecr." + f.region + ".amazonaws.com",
		}},
	})
}

// ---- EKS Pod Identity agent ----------------------------------------------------

func credsJSON(id string, k awsKey, exp time.Time, extra map[string]string) map[string]string {
	m := map[string]string{"AccessKeyId": id, "SecretAccessKey": k.secret, "Token": k.token,
		"Expiration": exp.Format(time.RFC3339)}
	for a, b := range extra {
		m[a] = b
	}
	return m
}

func (f *awsFake) pod(w http.ResponseWriter, r *http.Request) {
	f.cnt.add("pod")
	w.Header().Set("Content-Type", "application/json")
	if r.Method != "GET" || r.Header.Get("Authorization") != readTrim(f.podTokenFile) || f.get("pod") == "deny" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"message":"Authorization header is not valid"}`)
		return
	}
	id, k, exp := f.issue("ASIAPOD")
	json.NewEncoder(w).Encode(credsJSON(id, k, exp, map[string]string{"AccountId": "123456789012"}))
}

// ---- IMDSv2 --------------------------------------------------------------------

func (f *awsFake) imds() http.Handler {
	var mu sync.Mutex
	tokens := map[string]bool{}
	mux := http.NewServeMux()
	f.control(mux)
	mux.HandleFunc("/latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		f.cnt.add("imds-token")
		ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		if r.Method != "PUT" || err != nil || ttl < 1 || ttl > 21600 {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		t := fmt.Sprintf("AQAEAImdsToken%d==", len(tokens)+1)
		tokens[t] = true
		mu.Unlock()
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
		fmt.Fprint(w, t)
	})
	const role = "webhook-node-role"
	mux.HandleFunc("/latest/meta-data/iam/security-credentials/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := tokens[r.Header.Get("X-aws-ec2-metadata-token")]
		mu.Unlock()
		if !ok {
			w.WriteHeader(401)
			return
		}
		switch strings.TrimPrefix(r.URL.Path, "/latest/meta-data/iam/security-credentials/") {
		case "":
			fmt.Fprint(w, role+"\n")
		case role:
			f.cnt.add("imds-creds")
			id, k, exp := f.issue("ASIAIMD")
			json.NewEncoder(w).Encode(credsJSON(id, k, exp, map[string]string{
				"Code": "Success", "Type": "AWS-HMAC",
				"LastUpdated": time.Now().UTC().Format(time.RFC3339)}))
		default:
			w.WriteHeader(404)
		}
	})
	return mux
}

// awsFakes serves the four listeners until the process is killed.
func awsFakes(addr, ecrAddr, podAddr, imdsAddr, roleArn, webTokenFile, podTokenFile, region,
	staticKey, staticSecret, regUser, regPass string) {
	f := &awsFake{cnt: newCounter(), keys: map[string]awsKey{}, mode: map[string]string{},
		expiry: time.Hour, ecrExpiry: 12 * time.Hour, roleArn: roleArn,
		webTokenFile: webTokenFile, podTokenFile: podTokenFile, region: region,
		regUser: regUser, regPass: regPass}
	if staticKey != "" {
		f.keys[staticKey] = awsKey{secret: staticSecret}
	}
	serve := func(name, a string, h http.Handler) {
		l := listen(name, a)
		go func() { log.Fatal(http.Serve(l, h)) }()
	}
	stsMux, ecrMux, podMux := http.NewServeMux(), http.NewServeMux(), http.NewServeMux()
	for _, m := range []*http.ServeMux{stsMux, ecrMux, podMux} {
		f.control(m)
	}
	stsMux.HandleFunc("/", f.sts)
	ecrMux.HandleFunc("/", f.ecr)
	podMux.HandleFunc("/", f.pod)
	serve("sts", addr, stsMux)
	serve("ecr", ecrAddr, ecrMux)
	serve("pod", podAddr, podMux)
	serve("imds", imdsAddr, f.imds())
	select {}
}
