"""The command lines of tests/cli/test_httpie_fidelity.py, one a line.

Syntax: ``[difference, ...] ARGS <<< b'stdin' || HTTPIE-ARGS`` where only ARGS is needed.
``URL`` is the capture server's ``http://127.0.0.1:PORT`` and ``PORT`` its port; words are
split as a POSIX shell splits them. ``[...]`` names the deliberate differences (keys of
``DIFFERENCES`` in the test); ``|| HTTPIE-ARGS`` is the command line that makes httpie send
what zurl sends for ARGS; ``<<< b'...'`` is piped into standard input. Files named here
are ``FILES``, in the current directory of both clients.
"""

FILES: dict[str, bytes] = {
    "data.json": b'{"a": 1, "b": [true, null]}',
    "text.txt": b"hello\n",
    "utf8.txt": "grüße\n".encode(),
    "pic.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "noext": b"raw bytes",
    "empty.txt": b"",
    "page.html": b"<p>hi</p>",
    "doc.xml": b"<a/>",
    "obj.json": b'{"k": [1, 2], "s": "x"}',
    "token": b"s3cret\n",
    "space name.txt": b"spaced",
}

CASES = r"""
# --- methods and the method guess -----------------------------------------------------
URL/get
GET URL/get
get URL/get
HEAD URL/head
[bodyless-length] DELETE URL/delete
[bodyless-length] TRACE URL/trace
DELETE URL/delete a=1
OPTIONS URL/options a=1
GET URL/get a=1
get URL/get a=1
Post URL/post a=1
HEAD URL/head X-A:1
HEAD URL/head a=1
GET URL/get @data.json
--raw x DELETE URL/delete
[flag-conflict] --json --form URL/post a=1
--form URL/post a=1
--json URL/post a=1
PATCH URL/patch a:=1
OPTIONS URL/options
POST URL/post
PUT URL/put
PATCH URL/patch
URL/post a=1
POST URL/post a=1
PUT URL/put a=1
[bodyless-length] purge URL/cache
PURGE URL/cache a=1
# --- headers --------------------------------------------------------------------------
URL/get X-A:1 x-a:2
URL/get 'X-A:a\:b'
URL/get 'X-A:a;b'
URL/get 'X-A;'
URL/get 'X-A:"quoted"'
URL/get 'X-A:@token'
URL/get 'X-Long:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
URL/get User-Agent:a User-Agent:b
URL/get Accept:a Accept:b
URL/get Cookie:a=b
URL/get 'Cookie:a=b; c=d'
URL/get Referer:http://example.org/
URL/get 'If-None-Match:"abc"'
URL/get Range:bytes=0-1
URL/get X-A:1 q==2 X-B:3
URL/post Content-Type:text/plain a=1
URL/post Content-Type: a=1
URL/post Accept:application/xml a=1
URL/post User-Agent: a=1
URL/get Authorization:Bearer\ abc
URL/get 'Authorization:Basic dTpw'
URL/get X-Num:42 X-Dash-Name:v X_Under:v
URL/get Connection:close
URL/get Connection:
URL/get Content-Length:0
[length-refused] URL/get Content-Length:5
URL/get X-A:1
URL/get X-A:1 X-A:2
URL/get 'X-A:  spaced  '
URL/get X-Empty;
URL/get User-Agent:custom/1
URL/get User-Agent:
URL/get Accept:
URL/get Accept:text/html
URL/get accept:text/html
URL/get Accept-Encoding:
URL/get Accept-Encoding:identity
URL/get Host:example.org
URL/get X-A:1 X-A:
URL/get X-A: X-A:2
URL/get X-Token:@token
URL/get 'X-A:a:b:c'
URL/get 'X-A:a=b'
URL/get 'X\:A:1'
URL/get 'X-U:grüße'
[header-token] URL/get 'Bad Header:1'
URL/get ':x'
URL/get plain
URL/post 'f@'
URL/post 'a=@'
-f URL/post a=1 Content-Type:application/json
# --- query ----------------------------------------------------------------------------
URL/get 'q==a&b' 'r==a=b' 's==#' 't==?' 'u==+'
URL/get 'q==a\=b' 'r==a\:b'
URL/get 'q==x\y'
URL/get 'q\=x==1'
URL/get q==@text.txt
URL/get 'q==' 'q=='
URL/get 'ü==1'
'URL/get?' q==1
'URL/get?a' q==1
'URL/get?a=1&a=2' a==3
'URL/get?x=ü'
'URL/get#frag'
'URL/get?x=1#frag' q==2
URL
URL/
'URL/a/b/../c/./d'
'URL/a/..'
'URL/../x'
'URL/a/./'
'URL/a;b=c'
'URL/~user/x'
'URL/a+b'
'URL/a%20b'
'URL/%zz'
'URL/a b'
'URL/[x]'
'URL/a"b'
'URL/a|b'
'URL/a{b}'
'URL/a^b'
'HTTP://127.0.0.1:PORT/x'
'http://LOCALHOST:PORT/x'
'localhost:PORT/x'
'127.0.0.1:PORT'
URL/get q==1
URL/get 'q==a b' 'r==%2F' 's==/' 't==&='
[argument-order] URL/get q==1 x==2 q==3 || 'URL/get?q=1&x=2&q=3'
URL/get 'q==' ==v
'URL/get?x=1' y==2
'URL/get?x=b c&y=%2F'
URL/get q==@token
URL/get 'q==grüße'
'URL/päth?ä=ö'
[escapes-as-typed] 'URL/%41?b=%42'
'URL/a%2Fb'
URL/get 'a\[b\]==1'
URL/get 'a\=b==c'
URL/get 'a\\==c'
# --- JSON -----------------------------------------------------------------------------
URL/post 'a[b][c][d]=1'
URL/post 'a[3]=x'
URL/post 'a[0][b]=1' 'a[0][c]=2'
URL/post 'a[]:=1' 'a[]:=2'
URL/post '[]:={"x": 1}'
URL/post '[0]=a' '[2]=c'
URL/post 'ü=1' 'ö[ä]=2'
URL/post a:=@obj.json
URL/post a=@utf8.txt
URL/post 'a:="str"' 'b:=-1' 'c:=0.1' 'd:=[]' 'e:={}'
URL/post 'a:={"b": {"c": [1, {"d": null}]}}'
URL/post 'a[b\]c]=1'
URL/post 'a\]=1'
URL/post 'a[ ]=1'
URL/post 'a[\[]=1'
URL/post 'a[b][]:=1' 'a[b][]=x'
URL/post 'a[]=1' 'a[b]=2'
URL/post '[]=1' a=2
URL/post 'a[b]=1' 'a[]=2'
URL/post a=1 'a[]=2'
URL/post 'a[x=1'
URL/post 'a[[b]]=1'
URL/post 'a]b=1'
URL/post 'a[1][]=x' 'a[0]=y'
URL/post a=1 a=2
URL/post 'a=x\y'
URL/post 'a\=b=c'
URL/post 'a\:b=c'
URL/post 'a\@b=c'
URL/post 'a=b=c'
URL/post 'a=b:c'
URL/post 'a:=1' 'b=:='
URL/post 'a\\=1'
URL/post 'a=\\'
URL/post 'a=x\'
URL/post 'n:=100000000000000000000001'
URL/post 'a:=true' 'b:=false'
URL/post 'a:=" spaced "'
URL/post 'a:=[1, [2, [3]]]'
URL/post 'a:=@nope.json'
URL/post 'a:={oops'
URL/post 'a=@nope.txt'
[nested-in-raw] URL/post 'a:={"x": 1}' 'a[y]=2' || URL/post 'a[x]:=1' 'a[y]=2'
-j URL/post a=1 b:=2
[type-without-body] -j POST URL/post
-j PUT URL/put 'a[b]=1'
URL/post a=1 b:=2 c:=true d:=null e:='[1, "x"]' f:='{"g": 1}'
URL/post 'a=grüße'
URL/post a=@text.txt b:=@obj.json
URL/post 'a[b]=1' 'a[c][]=2' 'a[c][]=3'
URL/post '[]=a' '[]:=2'
URL/post '[0][k]=a' '[1][k]=b'
URL/post 'a\[b\]=1'
URL/post '\1=x'
URL/post 'a[\\1]:=1'
URL/post 'a[\1]=x'
[json-as-typed] URL/post n:=1e3 m:=1.50 || URL/post --raw '{"n": 1e3, "m": 1.50}'
URL/post 'a:={"x": 1, "x": 2}'
URL/post 'foo[bar][1][142241[]=1'
URL/post 'foo[-10]=1'
URL/post 'a=1' 'a[b]=2'
URL/post '=x'
[digits-key] URL/post 01=x || URL/post '\01=x'
-j URL/post a=1
[type-without-body] -j URL/get
# --- forms ----------------------------------------------------------------------------
-f URL/post a=1 a=1
-f URL/post 'a=&' 'b='
-f URL/post a=@utf8.txt
-f URL/post 'a:="x y"' 'n:=-0.5'
-f URL/post a:=null
-f URL/post 'a[b]=1'
-f PUT URL/put a=1
-f URL/post 'a\=b=c'
-f URL/post '=v'
-f URL/post a=1 X-A:1 q==2
-f URL/post a=1 Content-Type:text/plain
-f PUT URL/put <<< b'x=1'
-f URL/post a=1 b=2
-f URL/post 'a=x y' 'b=&=' 'c=grüße'
[argument-order] -f URL/post a=1 b=2 a=3 || -f URL/post --raw 'a=1&b=2&a=3'
-f URL/post 'a\[b\]=1'
-f URL/post option:=1 s:='"x"'
[json-as-typed] -f URL/post b:=true || -f URL/post b=true
-f URL/post a:='[1]'
-f URL/post a=@text.txt
[type-without-body] -f URL/get
[type-without-body] -f POST URL/post
-f POST URL/post <<< b'a=1&b=2'
# --- multipart ------------------------------------------------------------------------
-f URL/post f@text.txt g@pic.png
[octet-stream-parts] -f URL/post f@text.txt f@noext
--multipart URL/post a=1 b=@text.txt
-f URL/post 'f@noext;type=application/json'
-f URL/post f@text.txt --boundary xyzzy
-f URL/post 'fi"eld@text.txt'
-f URL/post 'ü@text.txt'
--multipart URL/post a=
-f URL/post f@empty.txt
-f URL/post f@obj.json a=1
-f URL/post f@doc.xml
-f URL/post 'f@text.txt;type=text/plain; charset=utf-8'
--multipart PUT URL/put a=1
--multipart URL/post a=1 X-A:1 q==2
-f URL/post a=1 f@text.txt b=2
-f URL/post f@pic.png
[octet-stream-parts] -f URL/post f@noext
-f URL/post 'f@noext;type=x/y'
--multipart URL/post a=1
--multipart URL/post a=1 --boundary xyzzy
-f URL/post f@text.txt Content-Type:multipart/mixed
-f URL/post a=1 'Content-Type:multipart/form-data; boundary=XY'
[type-boundary] --multipart URL/post a=1 'Content-Type:multipart/form-data; boundary=XY' || --multipart URL/post a=1 'Content-Type:multipart/form-data; boundary=XY' --boundary XY
[type-boundary] -f URL/post f@text.txt 'Content-Type:multipart/mixed; boundary="q q"' || -f URL/post f@text.txt 'Content-Type:multipart/mixed; boundary="q q"' --boundary 'q q'
[multipart-json] --multipart URL/post a=1 n:=2 || --multipart URL/post a=1 n=2
[no-empty-multipart] --multipart URL/get || URL/get
[upload-without-form] URL/post f@text.txt || -f URL/post f@text.txt
-f URL/post 'f@space name.txt'
-f URL/post f@utf8.txt 'g=grüße'
-f URL/post 'f@text.txt;type=text/csv'
# --- whole bodies ---------------------------------------------------------------------
URL/post @page.html
URL/post @obj.json Content-Type:text/plain
-j URL/post @text.txt
PUT URL/put @data.json
URL/post @data.json X-A:1 q==2
URL/post @pic.png
--raw '{"a": 1}' URL/post
--raw 'ü' URL/post
-j --raw x URL/post
--raw x URL/post Content-Type:
--raw x PUT URL/put
URL/post @nope.json
URL/post @data.json @obj.json
URL/post @data.json a=1
URL/post @data.json
URL/post @text.txt
URL/post @noext
URL/post @doc.xml
[empty-body-type] URL/post @empty.txt
[file-type-param] URL/post '@noext;type=image/png' || URL/post @noext Content-Type:image/png
[form-whole-body] -f URL/post @page.html || -f URL/post --raw '<p>hi</p>'
URL/post --raw hello
URL/post --raw ''
-j URL/post --raw ''
-f URL/post --raw 'a=1'
--raw 'x' URL/post Content-Type:text/plain
POST URL/post <<< b'{"x": 1}'
PUT URL/put <<< b'plain text'
PATCH URL/patch <<< b'{"op": "x"}'
-f PUT URL/put <<< b'a=1'
-j POST URL/post <<< b'[1]'
POST URL/post Content-Type:text/csv <<< b'a,b'
POST URL/post q==1 X-A:1 <<< b'data'
POST URL/post <<< b'\x00\x01\xff'
[stdin-unread] GET URL/get <<< b'x' || --ignore-stdin GET URL/get
[stdin-unread, bodyless-length] DELETE URL/delete <<< b'x' || --ignore-stdin DELETE URL/delete
[stdin-unread] URL/get q==1 <<< b'x' || --ignore-stdin URL/get q==1
[stdin-at] URL/post @- <<< b'{"y": 2}' || POST URL/post
[stdin-at] PUT URL/put @- <<< b'' || --ignore-stdin PUT URL/put --raw ''
[stdin-unread] URL/get <<< b'ignored' || --ignore-stdin URL/get
--ignore-stdin POST URL/post <<< b'x'
-v URL/post a=1
--all -F URL/get
--max-redirects 3 -F URL/get
--verify no URL/get
--pretty all URL/get
--style monokai URL/get
-p H URL/get
-p m URL/get
--check-status POST URL/post a=1
[stdin-unread] POST URL/post a=1 <<< b'ignored' || --ignore-stdin POST URL/post a=1
[empty-body-type] POST URL/post <<< b''
# --- auth -----------------------------------------------------------------------------
-a user:pass URL/get
-a 'user:pässword' URL/get
-a 'user:' URL/get
-a 'us:er:pa:ss' URL/get
-A bearer -a tok URL/get
-A digest -a u:p URL/get
-A=basic -a=u:p URL/get
'http://u:p@127.0.0.1:PORT/get'
-a u:p 'http://x:y@127.0.0.1:PORT/get'
-a u:p URL/get 'Authorization:Bearer x'
[userinfo-decoded] 'http://u%40x:p%3A@127.0.0.1:PORT/get' || -a 'u@x:p:' URL/get
'http://u@127.0.0.1:PORT/get'
'http://u:@127.0.0.1:PORT/get'
-a ':p' URL/get
-a 'ü:ö' URL/get
-a 'u:€' URL/get
[userinfo-decoded] 'http://u:%E2%82%AC@127.0.0.1:PORT/get' || -a 'u:€' URL/get
'http://u:p@127.0.0.1:PORT/get' 'Authorization:Bearer x'
-a u:p -A basic URL/get X-A:1
-A bearer -a 'a.b.c' URL/get
-A bearer -a tok URL/get Authorization:Basic\ x
-a u:p URL/post a=1
# --- body flags -----------------------------------------------------------------------
--chunked URL/post a=1
--chunked URL/post @data.json
--chunked -f URL/post a=1
--chunked --raw hello URL/post
--chunked POST URL/post <<< b'streamed'
[chunked-no-body] --chunked URL/get || URL/get
-x -f URL/post 'a=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
[compress-file] -x URL/post @data.json || URL/post @data.json
-x URL/get
-x URL/post 'a=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
-x URL/post a=1
-xx URL/post a=1
URL/post Content-Length:5 a=1
[user-chunked] URL/post Transfer-Encoding:chunked a=1
[flag-conflict] -j -f URL/post a=1
[flag-conflict] --multipart -j URL/post a=1
# --- output and other flags that do not change the request ----------------------------
-v URL/get
-h URL/get
-b URL/get
-p HBhb URL/post a=1
--pretty none URL/get
--check-status URL/get
-F URL/get
--timeout 30 URL/get
--ignore-stdin URL/get
--ignore-stdin POST URL/post <<< b'x'
-v URL/post a=1
--all -F URL/get
--max-redirects 3 -F URL/get
--verify no URL/get
--pretty all URL/get
--style monokai URL/get
-p H URL/get
-p m URL/get
--check-status POST URL/post a=1
://127.0.0.1:PORT/get
:PORT/get
'127.0.0.1:PORT/get'
"""
