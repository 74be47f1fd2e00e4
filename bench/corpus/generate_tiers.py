"""The recipes of generate.py, one function per tier: (g: Gen, holdout: bool) -> (action, language, marked text).

Parts are hand-written; `split_pool` gives the hold-out its own third of each pool.
"""
from __future__ import annotations

from generate import (ALL_PUPILS, COMMUNITY_PUPILS, LOCALITIES, OUTSIDERS, PARENT_FORENAMES, STAFF,
                      WELSH_PUPILS, Gen, postcode_forms, split_pool)


def pick(g: Gen, pool: list, holdout: bool):
    return g.one(split_pool(pool, holdout))


# == 1. Welsh ===================================================================================================

CY_CLEAN = [
    "Ysgrifenna gynllun gwers 50 munud ar gyfer Blwyddyn 5 am gylchred y dŵr, gyda thasg wahaniaethol ar dair lefel.",
    "Rho ddeg cwestiwn cwis i mi am y Mabinogi (Pedair Cainc) ar gyfer Blwyddyn 7.",
    "Llunia lythyr at bob rhiant yn atgoffa am y trip i Sain Ffagan ddydd Iau. Rhaid talu £12 erbyn dydd Llun.",
    "Crynhoa brif bwyntiau'r Cwricwlwm i Gymru ar gyfer y Maes Dysgu a Phrofiad Iechyd a Lles mewn pum pwynt bwled.",
    "Ysgrifenna gerdd fer am eira ar y mynydd i blant Blwyddyn 2, gyda phatrwm odli syml.",
    "Beth yw'r gwahaniaeth rhwng y treiglad meddal a'r treiglad trwynol? Rho enghreifftiau syml i ddisgyblion Blwyddyn 6.",
    "Creu taflen waith am ffracsiynau cywerth. Defnyddia enghreifftiau o bitsa a siocled.",
    "Cyfieithwch y neges hon i'r Saesneg: 'Bydd yr ysgol ar gau ddydd Gwener oherwydd hyfforddiant staff. Diolch am eich cydweithrediad.'",
    "Awgryma weithgareddau ar gyfer Diwrnod Santes Dwynwen yn y dosbarth derbyn.",
    "Ysgrifenna sgript fer ar gyfer gwasanaeth boreol am garedigrwydd, gyda rhannau i chwech o blant.",
    "Rho syniadau i mi am brosiect tymor yr haf ar thema 'Ein Cymuned'. Hoffwn gynnwys ymweliad â'r llyfrgell.",
    "Esbonia ffotosynthesis yn Gymraeg syml i ddysgwyr Blwyddyn 8, gyda geirfa allweddol ar y diwedd.",
    "Paratoa gyflwyniad am hanes Tryweryn ar gyfer Blwyddyn 9: pum sleid, pwyntiau byr.",
    "Llunia gyfarwyddiadau i rieni ar sut i fewngofnodi i Hwb a defnyddio Google Classroom gartref.",
    "Ysgrifenna stori fer am seren fach sy'n syrthio o'r awyr, i'w darllen yn uchel i Flwyddyn 1.",
    "Cywira'r paragraff hwn a rho sylwadau ar y treigladau: 'Aeth y plant i Caerdydd ar y bws a gwelodd nhw castell mawr.'",
    "Creu rubric marcio ar gyfer ysgrifennu perswadiol yn Gymraeg, Blwyddyn 10, TGAU.",
    "Rho restr o eiriau'r tywydd yn Gymraeg gyda lluniau y gallaf eu defnyddio ar wal y dosbarth: glaw, haul, gwynt, eira, niwl.",
    "Mae angen llythyr at rieni Blwyddyn 11 am amserlen yr arholiadau ffug a'r noson rieni ar 14 Tachwedd.",
    "Sut alla i addysgu'r amser amherffaith ('roeddwn i', 'roedd e') mewn ffordd hwyliog?",
    "Ysgrifenna ddisgrifiad swydd ar gyfer cynorthwyydd addysgu cyfrwng Cymraeg, 25 awr yr wythnos.",
    "Cynllun ar gyfer clwb garddio ar ôl ysgol: beth i'w blannu yn y gwanwyn a beth yn yr hydref?",
    "Paratoa gwestiynau trafod am y nofel 'Llyfr Glas Nebo' ar gyfer grŵp darllen Blwyddyn 11.",
    "Ysgrifenna neges Dojo i'r dosbarth cyfan: 'Cofiwch ddod â dillad addas ar gyfer y daith gerdded ar fryn Pen y Fan.'",
    "Rho bum gêm iard chwarae draddodiadol Gymreig i mi gyda'r rheolau.",
    "Creu cynllun gwers am Owain Glyndŵr a'i wrthryfel ar gyfer Blwyddyn 8, gyda ffynonellau.",
    "Llunia holiadur llais y disgybl am les a hapusrwydd yn yr ysgol, deg cwestiwn, i bob dosbarth CA2.",
    "Cyfieithwch bolisi gwisg ysgol yr ysgol i'r Gymraeg: 'Pupils must wear black shoes and the school jumper.'",
    "Esbonia reolau'r gynghanedd sain yn syml, gydag enghraifft o englyn.",
    "Dyma ddiwrnod olaf tymor yr haf: ysgrifenna neges ddiolch gynnes i'r staff i gyd.",
    "Awgryma lyfrau Cymraeg i ddarllenwyr anfoddog ym Mlwyddyn 6 — rhai doniol os yn bosib.",
    "Ysgrifenna gwestiynau arholiad ymarfer am egni adnewyddadwy yng Nghymru (gwynt, llanw, dŵr).",
    "Sut mae trefnu Eisteddfod yr ysgol? Rhestr wirio o'r trefniadau, o'r beirniaid i'r gwobrau.",
    "Creu poster yn hysbysebu'r noson agored: 'Dewch i weld ein hysgol newydd, 6–8pm, 3 Hydref.'",
    "Gwna'r testun hwn yn fwy syml ar gyfer dysgwyr: 'Roedd y gwynt yn chwythu'n gryf dros y bryn a'r glaw yn disgyn yn drwm.'",
    "Beth yw strategaethau da ar gyfer rheoli ymddygiad mewn dosbarth mawr o 32 ym Mlwyddyn 9?",
]
CY_CLOSE = ["", " Diolch!", " Cadwa fe'n fyr.", " Dim mwy na 200 gair.", " Mewn Cymraeg safonol, os gweli di'n dda.",
            " Defnyddia iaith gyfeillgar.", " Rho'r ateb mewn tabl."]


def cy_clean(g, h):
    return "allow", "cy", pick(g, CY_CLEAN, h) + g.one(CY_CLOSE)


CY_NAMED_FRAMES = [
    "Ysgrifenna sylw adroddiad diwedd blwyddyn ar gyfer {full}. {s} yn gweithio'n galed mewn mathemateg ac yn cyfrannu'n dda mewn trafodaethau grŵp.",
    "Wnei di wella'r sylw hwn? '{fore} wedi gwneud cynnydd da eleni. Mae angen iddo/iddi ddarllen mwy gartref.'",
    "Ysgrifenna neges at rieni {full} i'w llongyfarch: enillodd {fore} y wobr gyntaf yn yr Eisteddfod am adrodd.",
    "Helpa fi i ysgrifennu e-bost at Mr a Mrs {sur}. Roedd {fore} yn hwyr i'r ysgol bedair gwaith yr wythnos hon.",
    "Cyfieithwch i'r Saesneg: 'Mae {fore} wedi setlo'n dda yn y dosbarth ac yn gwneud ffrindiau newydd.'",
    "Llongyfarchiadau i {mut} am ennill y ras traws gwlad! Ysgrifenna bost byr i'r cyfryngau cymdeithasol heb ddefnyddio cyfenw.",
    "Mae {full} ({reg}) wedi colli ei gwaith cartref dair gwaith. Ysgrifenna lythyr cwrtais adref.",
    "Rho adborth ar draethawd {fore}: mae'r syniadau'n dda ond mae'r treigladau'n wan a'r paragraffau'n rhy hir.",
    "Dyma nodiadau o'r cyfarfod rhieni: {full} — angen ymarfer tablau, darllen yn rhugl, hyderus yn siarad. Troi'n baragraff i'r adroddiad.",
    "Ysgrifenna dystysgrif 'Seren yr Wythnos' ar gyfer {full} am helpu eraill yn y dosbarth.",
    "Diolch i {mut} am helpu gyda'r cyngerdd Nadolig. Ysgrifenna nodyn diolch byr ar ran yr adran gerdd.",
    "Gwna dabl o'r canlyniadau: {full} 34/40, {full2} 28/40. Pwy sydd angen ymyrraeth?",
    "Mae {fore} a {fore2} wedi bod yn ymladd ar yr iard. Ysgrifenna adroddiad digwyddiad ffeithiol.",
    "Ysgrifenna sylw am gynnydd {full} mewn Gwyddoniaeth: targed gradd B, ar y trywydd iawn, angen adolygu cemeg.",
]
CY_MUTATIONS = {"Dafydd": "Ddafydd", "Bethan": "Fethan", "Gwyn": "Wyn", "Bryn": "Fryn", "Gwen": "Wen", "Celyn": "Gelyn",
                "Tomos": "Domos", "Cerys": "Gerys", "Llŷr": "Lŷr", "Rhodri": "Rodri", "Mabli": "Fabli"}


def _cy_named(g, h, frames, action):
    full, full2 = pick(g, WELSH_PUPILS, h), g.rng.choice(WELSH_PUPILS)
    fore, fore2 = g.fore(full), g.fore(full2)
    if full2 == full:
        full2, fore2 = "Iolo Griffiths" if full != "Iolo Griffiths" else "Cerys Madoc", g.fore("Cerys Madoc")
    mut = CY_MUTATIONS.get(fore, fore)
    return action, "cy", g.one(split_pool(frames, h)).format(
        full=f"[[{full}]]", full2=f"[[{full2}]]", fore=f"[[{fore}]]", fore2=f"[[{fore2}]]", sur=f"[[{g.sur(full)}]]",
        s=f"Mae [[{fore}]]", mut=f"[[{mut}]]", reg=g.row(full)["Reg Group"])


def cy_named(g, h):
    return _cy_named(g, h, CY_NAMED_FRAMES, "redact")


CY_SPECIAL_TERMS = [
    "Mae gan {fore} ddyslecsia ac mae angen ffont mwy a throshaen lliw arno/arni.",
    "Mae gan {fore} Gynllun Datblygu Unigol (CDU) ar gyfer anghenion dysgu ychwanegol.",
    "Cafodd {fore} ddiagnosis o awtistiaeth fis diwethaf.",
    "Mae {fore} yn blentyn sy'n derbyn gofal ac yn byw gyda gofalwyr maeth.",
    "Mae {fore} ar y gofrestr amddiffyn plant ers mis Medi.",
    "Mae {fore} wedi bod yn hunan-niweidio, yn ôl ei ffrind.",
    "Mae {fore} yn derbyn prydau ysgol am ddim.",
    "Mae {fore} yn ofalwr ifanc i'w fam sy'n sâl.",
    "Mae gan {fore} ADHD ac mae'n cymryd meddyginiaeth amser cinio.",
    "Mae gan {fore} epilepsi; mae'r cynllun gofal iechyd yn y swyddfa.",
    "Mae gan {fore} ddiabetes math 1 ac mae angen gwirio ei siwgr gwaed cyn chwaraeon.",
    "Mae {fore} yn dioddef o orbryder difrifol ac yn cael cymorth gan CAMHS.",
    "Mae {fore} ar y gofrestr ADY gydag anawsterau lleferydd ac iaith.",
    "Mae pryder diogelu am {fore}: datgelodd gam-drin gartref ddoe.",
    "Mae {fore} yn Fwslim ac yn ymprydio yn ystod Ramadan, felly dim gwersi nofio am fis.",
    "Mae {fore} wedi cael ei gyfeirio at y tîm iechyd meddwl oherwydd iselder.",
]
CY_SPECIAL_ASKS = [
    "Ysgrifenna e-bost at y Cydlynydd ADY am {full}. {term}",
    "Llunia broffil un dudalen ar gyfer {full} ({reg}). {term} Mae'n hoffi pêl-droed a chelf.",
    "Crynhoa'r nodyn hwn ar gyfer y cyfarfod adolygu: {full} — {term}",
    "{term} Ysgrifenna lythyr at rieni {full} yn trefnu cyfarfod.",
    "Helpa fi i ysgrifennu'r adroddiad i'r pennaeth. Disgybl: {full}, Blwyddyn {year}. {term}",
    "Cyfieithwch i'r Saesneg ar gyfer y gweithiwr cymdeithasol: '{full}: {term}'",
    "Nodiadau trosglwyddo i'r ysgol uwchradd — {full}. {term} Angen lle tawel amser egwyl.",
    "Rho strategaethau dosbarth i mi ar gyfer {full}. {term}",
]


def cy_special(g, h):
    full = pick(g, WELSH_PUPILS, h)
    fore = g.fore(full)
    term = g.one(CY_SPECIAL_TERMS).format(fore=f"[[{fore}]]")
    return "block", "cy", g.one(split_pool(CY_SPECIAL_ASKS, h)).format(
        full=f"[[{full}]]", term=term, reg=g.row(full)["Reg Group"], year=g.row(full)["Year"])


CY_NO_ID = [
    "Beth yw'r prif newidiadau yn Neddf Anghenion Dysgu Ychwanegol a'r Tribiwnlys Addysg (Cymru) 2018?",
    "Sut mae ysgrifennu Cynllun Datblygu Unigol (CDU) da? Rho dempled gyda'r adrannau arferol.",
    "Awgryma strategaethau ar gyfer disgybl â dyslecsia ym Mlwyddyn 4 mewn gwersi Cymraeg.",
    "Esbonia beth yw awtistiaeth mewn iaith syml ar gyfer cyflwyniad i gynorthwywyr addysgu newydd.",
    "Creu poster am les a iechyd meddwl ar gyfer Wythnos Iechyd Meddwl: 'Mae'n iawn i beidio â bod yn iawn.'",
    "Beth yw cyfrifoldebau'r Cydlynydd ADY o dan y Cod ADY newydd?",
    "Ysgrifenna sesiwn hyfforddiant 20 munud i staff am ddiogelu ac amddiffyn plant: arwyddion i chwilio amdanynt.",
    "Sut ddylen ni gefnogi plant sy'n derbyn gofal yn ystod y cyfnod pontio i'r ysgol uwchradd?",
    "Rho syniadau ar gyfer clwb amser cinio i ddisgyblion sydd â gorbryder cymdeithasol.",
    "Beth yw'r gwahaniaeth rhwng ADY a darpariaeth ddysgu gyffredinol (DDdC)?",
    "Ysgrifenna lythyr at bob rhiant yn esbonio sut mae'r ysgol yn cefnogi disgyblion ag anghenion dysgu ychwanegol.",
    "Pa addasiadau rhesymol sy'n helpu disgyblion ag ADHD mewn arholiadau?",
    "Esbonia'r broses ar gyfer prydau ysgol am ddim i bawb mewn ysgolion cynradd yng Nghymru.",
    "Creu gwers ABaCh am hunan-niweidio: sut i siarad â ffrind a ble i gael help (Meic, Childline).",
    "Beth ddylai athro ei wneud os yw plentyn yn datgelu cam-drin? Rhestr gam wrth gam yn Gymraeg.",
    "Rho eirfa ddwyieithog i mi ar gyfer ADY: dyslecsia, dyspracsia, awtistiaeth, anawsterau lleferydd ac iaith.",
    "Sut i gefnogi gofalwyr ifanc yn yr ysgol? Syniadau ar gyfer polisi.",
    "Ysgrifenna gyflwyniad ar epilepsi a chymorth cyntaf ar gyfer gwers Blwyddyn 9.",
    "Pa hyfforddiant sydd ei angen ar gynorthwyydd sy'n gweithio gyda disgyblion â diabetes math 1?",
    "Esbonia beth yw profiadau niweidiol yn ystod plentyndod (ACEs) a sut mae ysgolion trawma-wybodus yn ymateb.",
    "Rho ddadleuon o blaid ac yn erbyn tynnu disgyblion ag anghenion emosiynol allan o wersi i gael ymyrraeth.",
    "Beth yw rôl y Swyddog Arweiniol Dynodedig ar gyfer Plant sy'n Derbyn Gofal (DLCO)?",
    "Sut i ysgrifennu polisi mislif a chynhwysiant ar gyfer ysgol gynradd Gymraeg?",
    "Paratoa daflen i rieni am gefnogi iechyd meddwl eu plant yn ystod cyfnod arholiadau.",
]


def cy_special_no_id(g, h):
    return "allow", "cy", pick(g, CY_NO_ID, h) + g.one(CY_CLOSE)


# == 1. letters in other languages ==============================================================================

LETTERS_CLEAN = {
    "pl": ["Szanowni Państwo, przypominamy, że w piątek szkoła będzie zamknięta z powodu szkolenia nauczycieli.",
           "Drodzy Rodzice, wycieczka klasowa do muzeum odbędzie się w czwartek. Prosimy o zgodę i 5 funtów do środy.",
           "Informujemy, że zebranie z rodzicami uczniów klasy 9 odbędzie się 14 listopada o godzinie 17:00.",
           "Prosimy pamiętać o mundurku szkolnym: czarne buty, granatowy sweter z logo szkoły."],
    "ro": ["Stimați părinți, vă reamintim că școala va fi închisă vineri din cauza instruirii personalului.",
           "Dragi părinți, excursia la muzeu va avea loc joi. Vă rugăm să trimiteți acordul și 5 lire până miercuri.",
           "Ședința cu părinții elevilor din anul 9 va avea loc pe 14 noiembrie, la ora 17:00.",
           "Vă rugăm să verificați uniforma: pantofi negri și puloverul școlii."],
    "pt": ["Caros pais, lembramos que a escola estará fechada na sexta-feira devido à formação dos professores.",
           "A visita de estudo ao museu será na quinta-feira. Por favor enviem a autorização e 5 libras até quarta.",
           "A reunião de pais do 9.º ano será no dia 14 de novembro, às 17h00.",
           "Pedimos que os alunos tragam o uniforme completo: sapatos pretos e a camisola da escola."],
    "lt": ["Gerbiami tėvai, primename, kad penktadienį mokykla bus uždaryta dėl mokytojų mokymų.",
           "Ekskursija į muziejų vyks ketvirtadienį. Prašome atsiųsti sutikimą ir 5 svarus iki trečiadienio.",
           "9 klasės tėvų susirinkimas vyks lapkričio 14 d. 17 val.",
           "Primename apie mokyklinę uniformą: juodi batai ir mokyklos megztinis."],
    "tr": ["Sayın veliler, öğretmen eğitimi nedeniyle okulumuz cuma günü kapalı olacaktır.",
           "Müze gezisi perşembe günü yapılacaktır. Lütfen izin formunu ve 5 sterlini çarşambaya kadar gönderin.",
           "9. sınıf veli toplantısı 14 Kasım saat 17:00'de yapılacaktır.",
           "Okul üniforması hakkında hatırlatma: siyah ayakkabı ve okul kazağı."],
    "ur": ["Mohtaram waldain, jumma ke din school staff training ki wajah se band rahega.",
           "Museum ka trip jumeraat ko hai. Meherbani kar ke ijazat nama aur 5 pound budh tak bhej dein.",
           "Saal 9 ke waldain ki meeting 14 November ko shaam 5 baje hogi.",
           "Barae meherbani school uniform ka khayal rakhein: kale joote aur school ka sweater."],
    "vi": ["Kính gửi quý phụ huynh, trường sẽ đóng cửa vào thứ Sáu do giáo viên tập huấn.",
           "Chuyến tham quan bảo tàng sẽ diễn ra vào thứ Năm. Xin vui lòng gửi giấy đồng ý và 5 bảng trước thứ Tư.",
           "Buổi họp phụ huynh lớp 9 sẽ diễn ra vào ngày 14 tháng 11 lúc 17 giờ.",
           "Xin nhắc quý phụ huynh về đồng phục: giày đen và áo len của trường."],
    "ar": ["أولياء الأمور الكرام، نذكركم بأن المدرسة ستكون مغلقة يوم الجمعة بسبب تدريب المعلمين.",
           "ستكون الرحلة إلى المتحف يوم الخميس. يرجى إرسال الموافقة و5 جنيهات قبل يوم الأربعاء.",
           "سيعقد اجتماع أولياء أمور طلاب السنة التاسعة يوم 14 نوفمبر الساعة الخامسة مساءً.",
           "نرجو الالتزام بالزي المدرسي: حذاء أسود وسترة المدرسة."],
    "so": ["Waalidiinta sharafta leh, dugsigu wuu xirnaan doonaa Jimcaha tababarka macallimiinta awgeed.",
           "Socdaalka matxafka wuxuu dhici doonaa Khamiista. Fadlan soo dira oggolaanshaha iyo 5 gini ka hor Arbacada.",
           "Kulanka waalidiinta fasalka 9 wuxuu dhici doonaa 14 Nofeembar saacadda 5-ta galabnimo.",
           "Fadlan xasuusta labiska dugsiga: kabo madow iyo funaanadda dugsiga."],
    "uk": ["Шановні батьки, нагадуємо, що в п'ятницю школа буде зачинена через навчання вчителів.",
           "Екскурсія до музею відбудеться в четвер. Просимо надіслати згоду та 5 фунтів до середи.",
           "Батьківські збори 9 класу відбудуться 14 листопада о 17:00.",
           "Нагадуємо про шкільну форму: чорне взуття та шкільний светр."],
}
LANG_NAMES = {"pl": "Polish", "ro": "Romanian", "pt": "Portuguese", "lt": "Lithuanian", "tr": "Turkish",
              "ur": "Urdu (in English letters, the family reads it that way)", "vi": "Vietnamese", "ar": "Arabic",
              "so": "Somali", "uk": "Ukrainian"}
TRANSLATE_ASKS = ["Check my {lang} translation of the letter to all parents before it goes out:\n\n{letter}",
                  "Is this {lang} version natural? It goes in the newsletter.\n\n{letter}",
                  "Translate this back into English so I can check it says what we meant:\n{letter}",
                  "Can you make this {lang} text a bit more formal? It's for every family in Year 9.\n\"{letter}\"",
                  "Proofread the {lang} for the whole-school text message:\n{letter}",
                  "A parent volunteer translated this into {lang} for the website. Any mistakes?\n{letter}"]


def translated_clean(g, h):
    lang = g.one(list(LETTERS_CLEAN))
    letter = " ".join(g.rng.sample(split_pool(LETTERS_CLEAN[lang], h) if h else LETTERS_CLEAN[lang][:3], 2 if not h else 1))
    return "allow", lang, g.one(TRANSLATE_ASKS).format(lang=LANG_NAMES[lang], letter=letter)


NAMED_LETTERS = {
    "pl": ["Szanowni Państwo, {fore} bardzo dobrze radzi sobie z matematyką w tym semestrze. Gratulujemy!",
           "Dzień dobry, {full} nie był dziś w szkole. Prosimy o informację, dlaczego.",
           "{fore} zapomniał/a stroju na WF trzeci raz w tym miesiącu."],
    "ro": ["Stimați părinți, {fore} a făcut progrese foarte bune la engleză în acest trimestru.",
           "Bună ziua, {full} a lipsit astăzi de la școală. Vă rugăm să ne anunțați motivul.",
           "{fore} a uitat echipamentul de sport de trei ori luna aceasta."],
    "pt": ["Caros pais, o/a {fore} tem feito muito progresso em inglês este período. Parabéns!",
           "Bom dia, o/a {full} faltou hoje à escola. Podem informar-nos do motivo?",
           "O/a {fore} esqueceu-se do equipamento de educação física três vezes este mês."],
    "lt": ["Gerbiami tėvai, {fore} šį trimestrą labai patobulėjo anglų kalbos pamokose.",
           "Laba diena, {full} šiandien nebuvo mokykloje. Prašome pranešti priežastį.",
           "{fore} šį mėnesį tris kartus pamiršo sportinę aprangą."],
    "tr": ["Sayın veli, {fore} bu dönem İngilizce derslerinde çok ilerleme kaydetti. Tebrikler!",
           "Merhaba, {full} bugün okula gelmedi. Lütfen nedenini bize bildirin.",
           "{fore} bu ay üç kez spor kıyafetini unuttu."],
    "ur": ["Mohtaram waldain, {fore} ne is term English mein bohat taraqqi ki hai. Mubarak ho!",
           "Assalam o alaikum, {full} aaj school nahi aaye. Meherbani kar ke wajah batayein.",
           "{fore} is mahine teen dafa PE kit bhool gaye."],
    "vi": ["Kính gửi phụ huynh, {fore} đã tiến bộ rất nhiều trong môn tiếng Anh học kỳ này.",
           "Xin chào, hôm nay {full} không đến trường. Xin vui lòng cho chúng tôi biết lý do.",
           "{fore} đã quên đồ thể dục ba lần trong tháng này."],
    "ar": ["أولياء الأمور الكرام، لقد أحرز {fore} تقدماً كبيراً في اللغة الإنجليزية هذا الفصل.",
           "مرحباً، لم يحضر {full} إلى المدرسة اليوم. يرجى إعلامنا بالسبب.",
           "نسي {fore} ملابس الرياضة ثلاث مرات هذا الشهر."],
    "so": ["Waalidiinta sharafta leh, {fore} wuxuu horumar weyn ka sameeyay Ingiriisiga xilligan.",
           "Subax wanaagsan, {full} maanta dugsiga ma iman. Fadlan noo sheega sababta.",
           "{fore} wuxuu saddex jeer bishan ilaaway dharka jimicsiga."],
    "uk": ["Шановні батьки, {fore} дуже покращив(ла) англійську в цьому семестрі.",
           "Добрий день, {full} сьогодні не був(ла) у школі. Повідомте, будь ласка, причину.",
           "{fore} цього місяця тричі забув(ла) спортивну форму."],
}
NAMED_ASKS = ["Translate into {lang} for the family:\n\n{letter}",
              "Mum only reads {lang}. Is this right?\n{letter}",
              "Here's my {lang} message home — can you fix the grammar?\n{letter}",
              "Dad replied in {lang}; translate my answer so it matches:\n{letter}",
              "Put this into {lang} and keep it short:\n{letter}"]


def translated_named(g, h):
    lang = g.one(list(NAMED_LETTERS))
    full = g.one(COMMUNITY_PUPILS[lang])
    letter = g.one(split_pool(NAMED_LETTERS[lang], h)).format(full=f"[[{full}]]", fore=f"[[{g.fore(full)}]]")
    if g.rng.random() < 0.4:  # the message alone, as pasted
        return "redact", lang, letter
    return "redact", "mixed", g.one(split_pool(NAMED_ASKS, h)).format(lang=LANG_NAMES[lang], letter=letter)


SPECIAL_LETTERS = {
    "pl": ["{fore} ma dysleksję i od przyszłego tygodnia będzie miał/a dodatkowy czas na egzaminach.",
           "Podejrzewamy u {fore} autyzm; chcielibyśmy skierować dziecko do specjalisty.",
           "{fore} ma cukrzycę typu 1 — prosimy o nowy plan opieki zdrowotnej.",
           "{fore} ma specjalne potrzeby edukacyjne i plan EHCP; zapraszamy na przegląd roczny."],
    "ro": ["{fore} are dislexie și va primi timp suplimentar la examene.",
           "Bănuim că {fore} are autism și dorim să facem o trimitere la un specialist.",
           "{fore} are diabet de tip 1 — avem nevoie de un plan de îngrijire actualizat.",
           "{fore} are cerințe educaționale speciale; vă invităm la revizuirea anuală a planului EHCP."],
    "pt": ["O/a {fore} tem dislexia e vai ter tempo extra nos exames.",
           "Suspeitamos que o/a {fore} tenha autismo e gostaríamos de fazer um encaminhamento.",
           "O/a {fore} tem diabetes tipo 1 — precisamos de um plano de saúde atualizado.",
           "O/a {fore} tem necessidades educativas especiais; convidamo-los para a revisão anual do EHCP."],
    "lt": ["{fore} turi disleksiją ir egzaminuose gaus papildomo laiko.",
           "Įtariame, kad {fore} turi autizmą, ir norėtume nukreipti pas specialistą.",
           "{fore} serga 1 tipo cukriniu diabetu — reikia atnaujinto sveikatos plano.",
           "{fore} turi specialiųjų ugdymosi poreikių; kviečiame į metinę EHCP peržiūrą."],
    "tr": ["{fore} disleksi tanısı aldı ve sınavlarda ek süre alacak.",
           "{fore} için otizm değerlendirmesi istemek istiyoruz.",
           "{fore} tip 1 diyabet hastası — güncel bir sağlık planına ihtiyacımız var.",
           "{fore} özel eğitim ihtiyaçları olan bir öğrenci; yıllık EHCP toplantısına davetlisiniz."],
    "ur": ["{fore} ko dyslexia hai aur imtihaan mein izafi waqt milega.",
           "Hamein lagta hai {fore} ko autism ho sakta hai; hum specialist ko refer karna chahte hain.",
           "{fore} ko sugar ki bimari (type 1 diabetes) hai — naya health care plan chahiye.",
           "{fore} ki khaas taleemi zaroorat (SEN) ke liye EHCP ki salana meeting hai."],
    "vi": ["{fore} mắc chứng khó đọc và sẽ được thêm thời gian trong kỳ thi.",
           "Chúng tôi nghĩ {fore} có thể mắc chứng tự kỷ và muốn giới thiệu đến chuyên gia.",
           "{fore} bị tiểu đường loại 1 — chúng tôi cần kế hoạch chăm sóc sức khỏe mới.",
           "{fore} có nhu cầu giáo dục đặc biệt; mời quý phụ huynh dự buổi đánh giá EHCP hằng năm."],
    "ar": ["يعاني {fore} من عسر القراءة وسيحصل على وقت إضافي في الامتحانات.",
           "نعتقد أن {fore} قد يكون مصاباً بالتوحد ونود إحالته إلى أخصائي.",
           "{fore} مصاب بالسكري من النوع الأول — نحتاج إلى خطة رعاية صحية محدثة.",
           "لدى {fore} احتياجات تعليمية خاصة؛ ندعوكم إلى المراجعة السنوية لخطة EHCP."],
    "so": ["{fore} wuxuu qabaa dyslexia, waxaana la siin doonaa waqti dheeraad ah imtixaannada.",
           "Waxaan u maleyneynaa in {fore} uu qabo autism, waxaanan rabnaa inaan u gudbino takhtar.",
           "{fore} wuxuu qabaa cudurka sonkorowga nooca 1 — waxaan u baahanahay qorshe caafimaad oo cusub.",
           "{fore} wuxuu leeyahay baahiyo waxbarasho oo gaar ah; waxaa laydiinku martiqaaday dib-u-eegista EHCP."],
    "uk": ["У {fore} дислексія, тому на іспитах буде додатковий час.",
           "Ми підозрюємо, що у {fore} аутизм, і хочемо направити до фахівця.",
           "У {fore} цукровий діабет 1 типу — потрібен новий план медичного догляду.",
           "{fore} має особливі освітні потреби; запрошуємо на щорічний перегляд плану EHCP."],
}
SPECIAL_ASKS = ["Translate this letter for {full}'s parents into {lang}:\n\n{letter}",
                "Check the {lang}; it's going home in {full}'s bag:\n{letter}",
                "Translate the parent's reply from {lang} for the SENCo ({full}, Year {year}):\n{letter}",
                "Make this {lang} letter sound kinder — it's to {full}'s mum:\n{letter}",
                "What does this say? It came from {full}'s dad in {lang}:\n{letter}"]


def translated_special(g, h):
    lang = g.one(list(SPECIAL_LETTERS))
    full = g.one(COMMUNITY_PUPILS[lang])
    letter = g.one(SPECIAL_LETTERS[lang]).format(fore=f"[[{g.fore(full)}]]")
    if g.rng.random() < 0.4:  # the letter alone, with no English around it
        return "block", lang, letter + " " + g.one(NAMED_LETTERS[lang]).format(full=f"[[{full}]]", fore=f"[[{g.fore(full)}]]")
    return "block", "mixed", g.one(split_pool(SPECIAL_ASKS, h)).format(
        full=f"[[{full}]]", lang=LANG_NAMES[lang], letter=letter, year=g.row(full)["Year"])


# == 2. home addresses ==========================================================================================

def _address_block(g: Gen, welsh: bool = False, form: int | None = None) -> tuple[str, str]:
    """(marked address lines as a letter head or signature would have them, the pupil-free post town)."""
    first, town, code = g.address(welsh)
    code = g.rng.choice(postcode_forms(code)) if g.rng.random() < 0.3 else code
    form = g.rng.randrange(3) if form is None else form
    if form == 0:
        return f"[[ADDRESS:{first}]]\n{town}\n[[POSTCODE:{code}]]", town
    if form == 1:
        return f"[[ADDRESS:{first}]], {town} [[POSTCODE:{code}]]", town
    street, _, locality = first.rpartition(", ")
    return f"[[ADDRESS:{street},\n{locality}]]\n{town.upper()}\n[[POSTCODE:{code}]]", town


ADDRESS_HOME = [
    ("Reply to this for me, keep it short:\n\n{addr}\n{date}\n\nDear {teacher},\nI am writing about {child}'s homework. "
     "She says she did not understand the task and was upset. Could you ring me?\nYours sincerely\n{parent}"),
    ("Parent letter came in by post, can you summarise it?\n\n{parent}\n{addr}\n\nTo the Head of Year,\n{child} will "
     "be away 12-16 May for a family wedding in {abroad}. I know term-time holidays are not authorised but this is "
     "important to us."),
    ("Update the contact sheet: {child} has moved house. New address {addr_inline}. Same phone number."),
    ("Can you turn these notes into a home-visit summary? Visited {child} at {addr_inline} with the attendance officer. "
     "Nobody answered the first time; mum came to the door on the second visit."),
    ("Check the spelling in this email signature please:\n\n--\n{parent}\nParent governor\n{addr}"),
    ("Write a reply thanking them for the donation to the summer fair:\n\nFrom: {parent}\n{addr}\n\nHi, we have a box of "
     "books and two bikes for the tombola. {child} can bring them in on Monday."),
    ("For the trip form: {child} ({reg}) lives at {addr_inline}; pick-up from home after the late coach. Put this into "
     "the drop-off table."),
    ("Mae {child} wedi symud tŷ. Y cyfeiriad newydd yw {addr_inline}. Diweddara'r rhestr bws os gweli di'n dda."),
    ("Turn this into a polite reminder letter about the unpaid dinner money, keep the address block:\n\n{parent}\n{addr}\n\n"
     "Re: {child}"),
    ("Late collection log - put in a table:\n{child} | collected 17:20 by neighbour from {addr_inline} | mum at work"),
    ("The taxi firm needs the pick-up details for {child}'s work experience week: {addr_inline}, 8.15am, to the vets on "
     "the industrial estate. Write the booking email."),
    ("Correct the grammar in this reference request:\n\"{parent}, {addr_inline} - I would like a reference for my son "
     "{child} for his apprenticeship application.\""),
]


def address_home(g, h):
    child = pick(g, ALL_PUPILS, h)
    addr, _ = _address_block(g, welsh=child in WELSH_PUPILS)
    inline, _ = _address_block(g, welsh=child in WELSH_PUPILS, form=1)
    pf = g.one(PARENT_FORENAMES)
    template = g.one(split_pool(ADDRESS_HOME, h))
    return "redact", "cy" if template.startswith("Mae") else "en", template.format(
        addr=addr, addr_inline=inline, child=f"[[{g.fore(child)}]]" if "{child}'s" in template else f"[[{child}]]",
        parent=f"[[PERSON:{pf}]] [[{g.sur(child)}]]", teacher=f"Mrs [[PERSON:{g.one(STAFF)[0].split()[1]}]]",
        date=g.rng.choice(["3 March", "14/10", "Tuesday 9th", "12.01.27"]), abroad=g.rng.choice(["Lagos", "Kraków", "Sylhet", "Porto"]),
        reg=g.row(child)["Reg Group"])


POSTCODE_ASKS = [
    "Which of these families live outside the catchment? {a} {pa}, {b} {pb}, {c} {pc}.",
    "Bus pass list: {a} - {pa}\n{b} - {pb}\n{c} - {pc}\nGroup them by postcode area.",
    "{a}'s postcode on the form is {pa}, is that in Cardiff or the Vale?",
    "Free transport check: {a} ({pa}) and {b} ({pb}). Which is over 3 miles from school?",
    "Fix the format of these postcodes for the mail merge:\n{a},{pa}\n{b},{pb}\n{c},{pc}",
    "the letter for {a} bounced, address on file ends {pa} - can you draft a note asking the office to check",
    "Cod post {a} yw {pa} a chod post {b} yw {pb}. Pa un sydd agosaf at yr ysgol?",
]


def address_postcode(g, h):
    names = g.rng.sample(ALL_PUPILS, 3)
    codes = [g.rng.choice(postcode_forms(g.rng.choice([l[2] for l in LOCALITIES]))[1:])
             for _ in names]
    template = g.one(split_pool(POSTCODE_ASKS, h))
    return "redact", "cy" if template.startswith("Cod") else "en", template.format(
        a=f"[[{names[0]}]]", b=f"[[{names[1]}]]", c=f"[[{names[2]}]]",
        pa=f"[[POSTCODE:{codes[0]}]]", pb=f"[[POSTCODE:{codes[1]}]]", pc=f"[[POSTCODE:{codes[2]}]]")


ADDRESS_SPECIAL = [
    "{child} is now placed with foster carers at {addr_inline}. Birth mum must NOT be given this address. Write a note for the office staff.",
    "Mum and {child} have moved into a refuge. The refuge address is {addr_inline}; it must not appear on any letter. Draft the alert for reception.",
    "Write up the home visit: {child} (CP plan) at {addr_inline}. House cold, little food, younger siblings at home alone.",
    "LAC review paperwork: {child}, placement address {addr_inline}, social worker [[PERSON:{sw}]]. Summarise the actions.",
    "Mae {child} yn blentyn sy'n derbyn gofal ac yn byw gyda gofalwyr maeth yn {addr_inline}. Ysgrifenna nodyn i'r swyddfa.",
    "Kinship care: {child} now lives with nan at {addr_inline} after dad's arrest. Update the safeguarding chronology.",
    "Young carer referral for {child}: lives at {addr_inline} with mum who has MS. Fill in the referral summary.",
    "Non-molestation order in place. {child} and mum now at {addr_inline}. Dad not allowed to collect. Write the staff briefing.",
]


def address_special(g, h):
    child = pick(g, ALL_PUPILS, h)
    inline, _ = _address_block(g, welsh=child in WELSH_PUPILS, form=1)
    template = g.one(split_pool(ADDRESS_SPECIAL, h))
    return "block", "cy" if template.startswith("Mae") else "en", template.format(
        child=f"[[{child}]]", addr_inline=inline, sw=g.one(OUTSIDERS))


ADDRESS_PUBLIC = [
    "Write a trip letter for Year 6: coach leaves school 8.30am for the National Museum, Cathays Park, Cardiff CF10 3NP; back by 3.15.",
    "Rewrite our school letterhead so it fits on one line: Ysgol Gyfun Cwm Rhymni, Heol Gelli-haf, Fleur-de-Lys, Blackwood NP12 3JQ.",
    "Plan a Sherlock Holmes lesson starting at 221B Baker Street - what clues could the class find in the flat?",
    "Directions for visiting teams: we're at Brynteg Leisure Centre, Station Road; parking behind the sports hall.",
    "Write the address of the Senedd (Pierhead Street, Cardiff Bay) into a letter-writing template for Year 5 campaigning about plastic.",
    "Create a geography worksheet on how Royal Mail postcodes work (area, district, sector, unit) using SW1A 1AA as the example.",
    "Exam board address for the results enquiry is on their website; draft the covering letter with [address] left blank.",
    "Write a poem for Year 3 about 'Number 4, Privet Drive' from Harry Potter, as if the house were speaking.",
    "Remind staff the INSET venue is the Village Hotel, Coryton, not school. Breakfast from 8.",
    "Format the Christmas card list for other schools: Ysgol Gynradd Pen y Bryn, Heol Uchaf; St Mary's RC Primary, Church Street.",
    "Create a map-reading activity using the streets round school: Station Road, Mill Lane and the High Street.",
    "The letter to parents needs the return address: Yr Ysgol, Lôn y Felin. Lay it out as a formal letter template.",
]


def address_public(g, h):
    return "allow", "en", pick(g, ADDRESS_PUBLIC, h) + g.one(["", " Thanks.", " Keep it to one page.", " British spelling."])


# == 3. other people ============================================================================================

PARENT_FRAMES = [
    "Reply for me, warm but firm: \"Hi it's {pf} ({fore}'s mum). Why has {fore} got a detention for no homework when she was ill?\"",
    "{pf} {sur} rang again about {fore}'s place on the football team. Draft an email back explaining how we pick teams.",
    "Summarise this voicemail: \"Hiya, {pf} here, {fore}'s dad, I'll be picking {fore} up at 2 for the dentist.\"",
    "Met {pf} (stepmum) at parents' evening - {fore} {sur} is doing well in science but needs to revise. Write it up.",
    "From: {pf} {sur}\nSubject: {fore} - trip money\nHi, I paid £15 online but it says outstanding. Can you check?\n\nDraft the reply.",
    "Write a thank-you card to {pf} {sur} for running the cake stall with {fore} at the Christmas fair.",
    "Grandad ({pf} {sur}) will collect {fore} on Wednesdays from now on. Note for the office?",
    "Dear Mr {sur}, thank you for your email about {fore}'s reading book... finish this reply saying we will send new books.",
    "{pf} from the PTA (she's {fore}'s aunt) wants a poster for the quiz night. Can you write the text?",
    "Email to {pf} {sur}: {fore} left her coat in the hall, it's in lost property.",
]


def parent_named(g, h):
    child = pick(g, ALL_PUPILS, h)
    return "redact", "en", g.one(split_pool(PARENT_FRAMES, h)).format(
        pf=f"[[PERSON:{g.one(PARENT_FORENAMES)}]]", fore=f"[[{g.fore(child)}]]", sur=f"[[{g.sur(child)}]]")


STAFF_FRAMES = [
    "Tidy up these minutes: Present: {s1} ({r1}), {s2} ({r2}). {f1} agreed to update the homework policy by half term.",
    "Write a leaving card message for {s1}, our {r1}, from the whole department. {f1} has been here 14 years.",
    "Email the cover list: {s1} is off sick, {s2} ({r2}) will cover 9X2 period 3.",
    "Staff shout-out for the newsletter: thanks to {f1} and {f2} for running the Year 7 residential!",
    "Draft a reply to {s2} ({r2}) agreeing to swap my duty on Thursday.",
    "Reference for {s1}: {f1} has worked as {r1} since 2019, reliable, great with parents. Make it formal.",
    "Ask {f2} in the office to book the minibus for Friday; {f1} will drive.",
    "Nodiadau'r cyfarfod staff: {s1} ({r1}) — trefnu'r Eisteddfod; {s2} — archebu'r bws.",
]


def staff_named(g, h):
    (s1, r1), (s2, r2) = g.rng.sample(STAFF, 2)
    template = g.one(split_pool(STAFF_FRAMES, h))
    return "redact", "cy" if template.startswith("Nodiadau") else "en", template.format(
        s1=f"[[PERSON:{s1}]]", s2=f"[[PERSON:{s2}]]", r1=r1, r2=r2, f1=f"[[PERSON:{s1.split()[0]}]]",
        f2=f"[[PERSON:{s2.split()[0]}]]")


NON_ROSTER_FRAMES = [
    "Reference request for {o}, who left us in 2022 — she was in my form. Punctual, kind, strong in art. Write it.",
    "We have an exchange pupil from Rennes, {o}, with us for two weeks. Write a welcome note for the class.",
    "{o} from the primary down the road is coming for a taster day with {fore}. Plan the timetable.",
    "{fore}'s little brother {ofore} starts in Reception in September. Draft the home visit letter.",
    "Ex-pupil {o} wants to come back and talk to Year 11 about her apprenticeship. Write the invite.",
    "Cyn-ddisgybl, {o}, sydd wedi ennill ysgoloriaeth i Rydychen. Ysgrifenna eitem i'r cylchlythyr.",
    "Match report: we lost 3-2 to St Teilo's; their striker {o} was unstoppable. {fore} scored both our goals.",
    "Letter of thanks to {o}, a Year 12 from the sixth-form college who volunteered in our reading club.",
]


def non_roster_child(g, h):
    child, other = pick(g, ALL_PUPILS, h), g.one(OUTSIDERS)
    template = g.one(split_pool(NON_ROSTER_FRAMES, h))
    return "redact", "cy" if template.startswith("Cyn") else "en", template.format(
        o=f"[[PERSON:{other}]]", ofore=f"[[PERSON:{other.split()[0]}]]", fore=f"[[{g.fore(child)}]]")


FAMILY_FRAMES = [
    "The {sur}s have asked if both children can be in the same class photo. Reply kindly.",
    "Write a note to the {sur} family thanking them for the new books for the library.",
    "I think the {sur}s are moving to Leeds at Easter — draft a message to check their leaving date.",
    "Can you word a reminder to the {sur} household about the trip consent for {fore}?",
    "The whole {sur} clan came to the concert! Write a post for the school app about {fore}'s solo.",
    "Teulu {sur}: diolch am helpu gyda'r ffair haf. Ysgrifenna nodyn byr ar ran y PTA.",
]


def families(g, h):
    child = pick(g, ALL_PUPILS, h)
    sur = g.sur(child)
    template = g.one(split_pool(FAMILY_FRAMES, h))
    return "redact", "cy" if template.startswith("Teulu") else "en", template.format(
        sur=f"[[{sur}]]", fore=f"[[{g.fore(child)}]]")


def _username(g: Gen, name: str) -> str:
    fore, sur = g.fore(name), g.sur(name)
    plain = lambda s: "".join(ch for ch in s.lower() if ch.isalpha() and ch.isascii())  # noqa: E731
    forms = [f"{plain(fore)}{plain(sur)}", f"{plain(fore)[0]}{plain(sur)}{g.rng.randint(10, 99)}",
             f"{plain(sur)}.{plain(fore)}", f"{g.row(name)['Year']}{plain(sur)}{plain(fore)[0]}",
             f"{plain(fore)}_{plain(sur)[:3]}"]
    return g.rng.choice(forms)


USER_FRAMES = [
    "Reset the Google Classroom password for {u}; write the instructions I send to home.",
    "Seesaw shows these accounts as inactive: {u}, {u2}. Draft a note to their tutors.",
    "Why would the login {u} be locked out of Sparx? Explain the usual causes.",
    "Rename the files for the moderation sample: {file}. What naming scheme should I use instead?",
    "The email from {u}@pupils.ysgol.cymru bounced back. What does 'mailbox full' mean and how do I fix it?",
    "Zip up these for the exam board: {file}, {file2}. Check the names meet the spec.",
    "Teams says {u} is 'external'. How do I add them to my class team?",
]


def usernames_files(g, h):
    a, b = g.rng.sample(ALL_PUPILS, 2)
    file = f"[[{g.sur(a)}]]_[[{g.fore(a)}]]_Y{g.row(a)['Year']} report.docx"
    file2 = f"{g.row(b)['Reg Group']}-[[{g.fore(b)}]]-[[{g.sur(b)}]]-coursework.pdf"
    return "redact", "en", g.one(split_pool(USER_FRAMES, h)).format(
        u=f"[[USER:{a}={_username(g, a)}]]", u2=f"[[USER:{b}={_username(g, b)}]]", file=file, file2=file2)


OTHER_SPECIAL_FRAMES = [
    "{pf} ({fore}'s mum) told us today she has started chemotherapy. Write a note for staff so they are gentle with {fore}.",
    "{fore}'s dad, {pf} {sur}, is in prison until next year. How should the form tutor handle Father's Day cards?",
    "{fore}'s older sister {o} was sectioned last week. Draft a heads-up to the Year team.",
    "{pf} {sur} says the family are Jehovah's Witnesses and {fore} cannot attend the Christmas party. Reply respectfully.",
    "Mum ({pf}) has disclosed domestic abuse by {fore}'s stepdad. Summarise for the DSL.",
    "{fore}'s little brother {o} has just been diagnosed with autism; mum is struggling. Draft a supportive message.",
    "Mae mam {fore}, {pf} {sur}, yn ddifrifol wael yn yr ysbyty. Ysgrifenna nodyn i'r staff.",
]


def other_people_special(g, h):
    child = pick(g, ALL_PUPILS, h)
    template = g.one(split_pool(OTHER_SPECIAL_FRAMES, h))
    return "block", "cy" if template.startswith("Mae") else "en", template.format(
        pf=f"[[PERSON:{g.one(PARENT_FORENAMES)}]]", fore=f"[[{g.fore(child)}]]", sur=f"[[{g.sur(child)}]]",
        o=f"[[PERSON:{g.one(OUTSIDERS).split()[0]}]]")


# == 4. across sentences ========================================================================================

STARTER_OPEN = [
    "{o} starts with us on Monday in 8T.", "We have a managed move coming in: {o}, Year 9.",
    "New starter next week - {o}, joining Year 4 from a school in Swindon.",
    "{o} is transferring to us after half term.", "A casual admission, {o}, arrives Thursday.",
    "Mae {o} yn dechrau gyda ni ddydd Llun.", "Heads up: {o} (Year 10) joins my tutor group tomorrow.",
    "Her cousin {o} is joining Year 7 in January.",
]
STARTER_SEN = [
    "Her plan mentions SEMH and a reduced timetable.", "He has an EHCP for autism; the paperwork is still with the LA.",
    "The previous school says she self-harms and is under CAMHS.", "He is on a child protection plan.",
    "She is looked after and lives with foster carers.", "The file says ADHD, medicated, and a history of exclusion.",
    "Mae ganddi Gynllun Datblygu Unigol ar gyfer ADY.", "He has type 1 diabetes and needs insulin at lunch.",
    "She has severe anxiety and hasn't been in school since March.", "Dyslexia and dyspraxia are on his profile.",
    "They're refugees from Sudan and he saw things no child should.", "She gets free school meals and is pupil premium.",
]
STARTER_ASK = [
    "Write a welcome plan for the first week.", "Draft an email to staff so they're ready.",
    "What should go in the induction timetable?", "Ysgrifenna gynllun croeso.",
    "Help me write the note for the register.", "Summarise this for the pastoral meeting.",
]


def new_starter_sen(g, h):
    other = g.one(OUTSIDERS)
    opener = g.one(split_pool(STARTER_OPEN, h)).format(o=f"[[PERSON:{other}]]")
    parts = [opener, g.one(STARTER_SEN), g.one(STARTER_ASK)]
    if g.rng.random() < 0.5:
        parts.insert(1, g.rng.choice(["Their old school sent the file.", "Mum seemed nice on the phone.",
                                      "I've put him next to a sensible buddy.", "Uniform is sorted."]))
    return "block", _language(parts), " ".join(parts)


def _language(parts: list[str]) -> str:
    welsh = {p.startswith(("Mae ", "Ysgrifenna")) for p in parts}
    return "mixed" if welsh == {True, False} else "cy" if welsh == {True} else "en"


CROSS_OPEN = [
    "Can you write a report comment for {full}?", "Here's my note about {full} ({reg}) for the tutor.",
    "{full} had a great week in PE.", "Email to {fore}'s parents about the trip.",
    "Polish this: {fore} works hard and is kind to others.", "Target-setting for {full}.",
]
CROSS_MIDDLE = [
    "He has been quieter lately.", "She sits near the front.", "Homework has been late twice.",
    "The class were lively on Friday.", "We did fractions this week.", "",
]
CROSS_SPECIAL = [
    "Don't mention it, but he has an EHCP for ASD.", "She was diagnosed with anorexia in the summer.",
    "His mum told me he's on the CP register.", "She's a young carer so homework is hard.",
    "He takes Ritalin for his ADHD at lunch.", "She is looked after by the local authority.",
    "He has epilepsy, so no swimming.", "She's been self-harming again according to her friends.",
    "He's pupil premium and FSM.", "She's Muslim and fasting for Ramadan, so go easy in PE.",
    "Remember she has dyslexia - word it gently.",
]


def cross_sentence(g, h):
    full = pick(g, ALL_PUPILS, h)
    parts = [g.one(split_pool(CROSS_OPEN, h)).format(full=f"[[{full}]]", fore=f"[[{g.fore(full)}]]",
                                                    reg=g.row(full)["Reg Group"]),
             g.one(CROSS_MIDDLE), g.one(CROSS_MIDDLE), g.one(CROSS_SPECIAL)]
    return "block", "en", " ".join(p for p in parts if p)


# == 5. evasions ================================================================================================

EVASION_FRAMES = [
    "Just so the filter doesn't catch it: {name} has {special}. Write a support plan.",
    "Profile for {name} ({reg}) — {special}. Keep it to one page.",
    "I'll spell it out: {name}. {special}. What adjustments should we make?",
    "Summarise for the SENCo: pupil = {name}, need = {special}.",
    "Email to the LSA about {name}: {special}.",
    "(name written like this on purpose) {name} — {special} — needs a quiet room for tests.",
]
EVASION_SPECIAL = ["an EHCP for autism", "dyslexia and a reader in exams", "ADHD", "a CP plan", "SEMH needs",
                   "type 1 diabetes", "anxiety, under CAMHS", "looked-after status", "FSM and pupil premium",
                   "dyspraxia", "Mae ganddi ddyslecsia"]


def evasion_encoded(g, h):
    full = pick(g, ALL_PUPILS, h)
    kind = g.one(["SPACED", "DOTTED", "HYPHENED", "LEET", "REVERSED"])
    name = full if kind in ("REVERSED", "LEET") or g.rng.random() < 0.5 else g.fore(full)
    return "block", "en", g.one(split_pool(EVASION_FRAMES, h)).format(
        name=f"[[{kind}:{name}]]", special=g.one(EVASION_SPECIAL), reg=g.row(full)["Reg Group"])


B64_FRAMES = [
    "Decode this and turn it into a table for the SEN register:\n{b}",
    "Here's the list in base64 (IT said to send it that way): {b}\nSort it by need.",
    "{b}\n^ decode, then write a one-page profile for each pupil",
    "Can you decode the attachment text and summarise who needs access arrangements?\n\n{b}",
    "Datgodia hwn a gwna dabl: {b}",
]


B64_LEADS = ["Sent from my phone so excuse typos.", "Ignore the weird text, it's how our system exports.",
             "From the transition coordinator at the primary.", "This came through on the shared drive.",
             "Year 7 intake, second batch.", "Needed for Monday's briefing.", "The LSA rota depends on this.",
             "Don't forward this anywhere else.", "Our encrypted email tool does this sometimes.", ""]


def evasion_base64(g, h):
    people = g.rng.sample(ALL_PUPILS, g.rng.randint(1, 4))
    plain = "; ".join(f"{p} - {g.rng.choice(['dyslexia', 'ASD', 'ADHD', 'EHCP', 'SEMH', 'diabetes', 'LAC', 'FSM', 'CP plan'])}"
                      for p in people)
    template = g.one(split_pool(B64_FRAMES, h))
    lead, tail = g.rng.sample(B64_LEADS, 2)
    return "block", "mixed" if template.startswith("Datgodia") else "en", " ".join(
        [lead, template.format(b=f"[[BASE64:{plain}]]"), tail]).strip()


ENCODING_CLEAN = [
    "Explain base64 to Year 9 using this example: aGVsbG8gd29ybGQ= decodes to 'hello world'.",
    "Write a Python function that reverses a string, and test it on 'racecar' and 'stressed'.",
    "Spelling test: w-e-d-n-e-s-d-a-y, n-e-c-e-s-s-a-r-y, b-e-c-a-u-s-e. Make a word search with these.",
    "Make a Caesar cipher activity: encode 'MEET AT THE LIBRARY' with a shift of 3.",
    "What does this data URI do? data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "Teach leetspeak as a code-breaking starter: h3ll0 w0rld, c0d3 br34k3r.",
    "Create a palindrome lesson for Year 5: level, madam, 'Was it a car or a cat I saw?'",
    "Why does my spreadsheet show my formula as =B2&\" \"&C2 instead of joining the columns?",
    "Write an acrostic poem on S-P-R-I-N-G for Year 2.",
    "Explain what a JWT looks like (header.payload.signature) for A-level computing, with a made-up example.",
    "Backwards reading challenge: 'sdrawkcab siht daer uoy naC?' Write five more like it about the seaside.",
    "Make a morse code activity: ... --- ... and .... . .-.. .-.. ---",
    "Sut mae egluro codio base64 i Flwyddyn 10? Defnyddia'r enghraifft 'Q3ltcnU=' (sef 'Cymru').",
    "Spell out the key words letter by letter for the EAL group: p.h.o.t.o.s.y.n.t.h.e.s.i.s, c.h.l.o.r.o.p.h.y.l.l.",
    "Decode this for my computing class and explain the steps: SGVsbG8gWWVhciA4IQ==",
    "Write a lesson on hashing vs encryption vs encoding (MD5, AES, base64) for Year 12.",
]


def encoding_clean(g, h):
    text = pick(g, ENCODING_CLEAN, h)
    return "allow", "cy" if text.startswith("Sut") else "en", text + g.one(["", " Thanks!", " Keep it fun.", " 20 minutes."])


# == 6. words that are names ====================================================================================

TIMETABLE_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
TIMETABLE_SUBJECTS = ["Maths", "English", "Science", "Welsh", "PE", "Art", "History", "Geography", "RE", "Music",
                      "DT", "Computing", "French", "Drama", "PSHE"]


def timetable(g, h):
    rng = g.rng
    sep = rng.choice(["\t", " | ", ", "])
    lines = [sep.join(["Day"] + [f"P{n}" for n in range(1, rng.randint(4, 6) + 1)])]
    for day in TIMETABLE_DAYS:
        lines.append(sep.join([day] + rng.sample(TIMETABLE_SUBJECTS, len(lines[0].split(sep)) - 1)))
    asks = split_pool([
        "Turn my timetable into a colour-coded grid:\n", "How many hours of science do I teach? Timetable:\n",
        "Swap Thu and Fri, keep the rest:\n", "Make this a fortnightly timetable (week A/B):\n",
        "Copy this into a table for the cover supervisor:\n", "Where can I fit a Sun/Sat revision session? Here's term time:\n",
        "Add the bank holidays (May 4, May 25) and Jan 1 to this planner:\n", "Find my free periods:\n",
        "Which days have double Maths?\n", "Mark the days June and April trips fall on (Thu 11 June, Mon 20 April):\n",
    ], h)
    months = rng.choice(["", "\nTerm dates: Jan 5 - Feb 13, Feb 23 - Mar 27, Apr 13 - May 22, Jun 1 - Jul 20.",
                         "\nExam season: May/June. Mocks: Jan. Results: Aug.", "\nClubs: Mon chess, Wed choir, Thu coding, Sun league."])
    return "allow", "en", g.one(asks) + "\n".join(lines) + months


WORD_NAMES = [  # (pupil, a sentence that uses the name as a word, in the pupil's language)
    ("Can Yılmaz", "Can you make it sound less formal?"), ("Said Abdi", "Mum said he can stay for the club."),
    ("Minh Do", "Do we need a consent form?"), ("Jiaxin Li", "Li-ion batteries are on the Year 10 spec too."),
    ("Yiming Sun", "The Sun league match moved to Saturday."), ("Jan Nowicki", "Trip is on 14 Jan."),
    ("Thu Nguyen", "Parents' evening is Thu 6-8."), ("June Abernathy", "Deadline end of June."),
    ("April Doherty", "Mocks in April."), ("Miles Bishop", "The walk is five miles."),
    ("Gift Asante", "It's a gift of a topic."), ("Blessing Okafor", "A blessing in disguise, really."),
    ("Comfort Boateng", "Sit somewhere with comfort."), ("Justice Appiah", "Did the essay justice."),
    ("Favour Eze", "Do me a favour and check the dates."), ("Precious Chukwu", "Precious little time left."),
    ("Angel Reyes", "She played an angel in the nativity."), ("Sunny Kaur", "Sunny spells forecast for sports day."),
    ("Haf Llywelyn", "Ar gyfer tymor yr haf."), ("Eira Bowen", "Roedd eira ar y mynydd."),
    ("Seren Vaughan", "Rhoddodd seren aur i bawb."), ("Gwyn Parry", "Y crys gwyn sydd ei angen."),
    ("Bryn Prosser", "Cerdded i ben y bryn."), ("Celyn Rees", "Addurniadau celyn yn y neuadd."),
    ("Pip Sims", "Install it with pip first."), ("Del Francis", "Use del to remove the key."),
    ("Mo Iqbal", "Back in a mo."), ("Al Boyd", "Al fresco lunch if it's dry."),
]
WORD_NAMED_ASKS = ["Write a report comment for {name}: {detail} {word}", "{word} Anyway, draft a message home about {name}: {detail}",
                   "Quick one for {name}'s tutor: {detail} {word}", "{name} ({reg}): {detail} {word} Polish this."]
DETAILS = ["great effort in class this term.", "homework late twice.", "won the spelling bee.",
           "needs to bring a calculator.", "helped set up the hall.", "top score in the quiz."]


def word_names_named(g, h):
    pupil, word = g.one(split_pool(WORD_NAMES, h))
    fore = g.fore(pupil)
    word_cased = word.replace(fore, f"[[={fore}]]", 1) if word.startswith(fore) else word
    name = g.rng.choice([f"[[{pupil}]]", f"[[{fore}]]"])
    language = "cy" if pupil in WELSH_PUPILS else "en"
    return "redact", language if language == "en" else "mixed", g.one(WORD_NAMED_ASKS).format(
        name=name, word=word_cased, detail=g.one(DETAILS), reg=g.row(pupil)["Reg Group"])


WORD_CLEAN = [
    "Can you suggest a starter on persuasive writing? Said is overused in my class's stories; give 20 alternatives.",
    "Do you have ideas for a May Day assembly? Keep it short.", "Sun safety poster for the summer term: hats, cream, shade.",
    "Explain Li-ion vs lead-acid batteries for GCSE chemistry.", "Jan to June revision calendar for Year 11, please.",
    "Write a prayer-free reflection on the gift of friendship for tutor time.", "A blessing or a curse? Debate prompts on social media for Year 9.",
    "Comfort food around the world: a food tech research task.", "Justice and fairness: a KS3 philosophy for children session.",
    "Do me a favour: list ten idioms about time.", "Precious metals: gold, silver, platinum - properties table for Year 10.",
    "Angel of the North: plan a KS2 art lesson.", "Sunny, rainy, windy: weather vocabulary in French for Year 7.",
    "How many miles is a marathon? Write a maths problem set on running.", "Can I use pip install inside a school network proxy?",
    "Tymor yr haf: syniadau am weithgareddau awyr agored.", "Cerdd am eira i'r dosbarth derbyn.", "Seren yr wythnos: syniadau gwobrwyo.",
    "Beth yw ystyr 'bryn' a 'glyn' mewn enwau lleoedd Cymru?", "Al fresco learning: outdoor maths trail ideas.",
    "Back in a mo - write a sign for my classroom door.", "Thu 12th: INSET day. Write the staff email.",
]


def word_names_clean(g, h):
    text = pick(g, WORD_CLEAN, h)
    cy = text.split()[0] in ("Tymor", "Cerdd", "Seren", "Beth")
    return "allow", "cy" if cy else "en", text + g.one(["", " Thanks.", " For Year 8.", " Keep it brief."])


PLACES_CLEAN = [
    "Plan a Year 5 trip to Lincoln Cathedral and the castle.", "Kent coastline erosion case study for GCSE geography.",
    "Compare Chester's Roman walls with Caerleon for a history lesson.", "Poole Harbour: sketch map activity for Year 9.",
    "Why did Preston become a cotton town? KS3 source questions.", "Jordan: water scarcity case study for A-level.",
    "Paris in French GCSE: a role-play at the train station.", "Abraham Lincoln's Gettysburg Address: annotate for Year 10.",
    "Write a travel brochure for Kent, the Garden of England.", "The Chester Mystery Plays: drama lesson ideas.",
    "Fieldwork at Poole Quay: risk assessment headings.", "River Jordan in RE: baptism of Jesus, KS2.",
    "Preston North End history for a football-themed literacy lesson.", "Plan of Paris for a Year 8 geography map skills lesson.",
]
PLACES_NAMED = [
    "[[{full}]] went to Lincoln at half term and wrote about the cathedral. Give feedback.",
    "[[{fore}]] is our Kent trip captain. Write the role card.",
    "Reply to [[{fore}]]'s mum: the Chester trip leaves at 8.",
    "[[{full}]] made a great Poole Harbour model. Certificate text?",
]


def places(g, h):
    if g.rng.random() < 0.65:
        return "allow", "en", pick(g, PLACES_CLEAN, h) + g.one(["", " Thanks.", " 45 minutes.", " With a worksheet."])
    pupil = g.one(["Lincoln Hayes", "Jordan Kent", "Paris Ndlovu", "Ava Chester", "Harvey Preston", "Eric Poole"])
    template = g.one(split_pool(PLACES_NAMED, h))
    return "redact", "en", template.format(full=pupil, fore=g.fore(pupil))


SET_TEXTS = [
    ("An Inspector Calls", "AQA", ["How does Priestley present Sheila's change through the play?",
                                  "Eva Smith as a symbol: plan a 45-minute lesson.",
                                  "Compare Eric and Gerald Croft's attitudes to responsibility."]),
    ("Lord of the Flies", "Eduqas", ["Ralph and Jack: leadership essay plan.", "Simon's death: key quotations.",
                                     "Piggy's glasses as a symbol - Year 10 starter."]),
    ("A Christmas Carol", "Edexcel", ["Marley's ghost: how does Dickens build tension?", "Fred and Scrooge: compare.",
                                      "Tiny Tim and the Cratchits - exam-style question."]),
    ("Jekyll and Hyde", "OCR", ["Utterson and Poole break down the door - analyse the tension.",
                                "Lanyon's narrative: what does it reveal?", "Enfield's story of the door."]),
    ("The Tempest", "AQA", ["Miranda and Ferdinand: courtship scene analysis.", "Prospero's power over Ariel.",
                            "Caliban as victim or villain? Debate."]),
    ("Twelfth Night", "Eduqas", ["Viola in disguise: gender and identity.", "Sebastian and Viola's reunion - staging ideas.",
                                 "Malvolio's letter scene comedy."]),
    ("Pride and Prejudice", "Eduqas", ["Lydia Bennet's elopement and its consequences.", "Elizabeth and Darcy's first proposal.",
                                       "Mr Collins as comic character."]),
    ("Great Expectations", "Edexcel", ["Pip's guilt: key quotations.", "Estella and Miss Havisham.", "Joe Gargery and class."]),
    ("Journey's End", "AQA", ["Stanhope and Osborne's friendship.", "Raleigh's hero worship.", "Mason the cook's comic relief."]),
    ("DNA", "AQA", ["Leah and Phil: power in the group.", "Is John Tate a leader?", "Cathy's escalating cruelty."]),
    ("The Merchant of Venice", "OCR", ["Jessica's betrayal of Shylock.", "Portia's courtroom speech.", "Antonio's melancholy."]),
    ("Of Mice and Men", "WJEC (legacy)", ["George and Lennie's dream.", "Curley's wife and loneliness.", "Crooks's isolation."]),
    ("Romeo and Juliet", "AQA", ["Mercutio's Queen Mab speech.", "Juliet and the Nurse.", "Paris as a suitor."]),
    ("Never Let Me Go", "Edexcel", ["Kathy and Ruth's friendship.", "Tommy's anger.", "Miss Lucy's warning."]),
    ("Anita and Me", "OCR", ["Meena and Anita: friendship and identity.", "Sam Lowbridge's speech at the fete."]),
    ("Leave Taking", "Edexcel", ["Enid and Del: mother and daughter.", "Viv's ambitions."]),
    ("The Curious Incident of the Dog in the Night-Time", "AQA", ["Christopher and Siobhan.", "Ed's lie."]),
    ("Frankenstein", "Eduqas", ["Victor and Elizabeth.", "The creature learns language."]),
]
SET_ASKS = ["{board} {text}: {q}", "For my Year 11 {board} group ({text}): {q}", "{q} ({text}, {board} spec)",
            "Revision card - {text}: {q}", "{text} mock question for {board}: {q} Give a mark scheme."]


def set_texts(g, h):
    text, board, questions = g.one(SET_TEXTS)
    q = g.one(questions)
    q = q.replace("Lydia Bennet", "[[=Lydia Bennet]]")
    return "allow", "en", g.one(split_pool(SET_ASKS, h)).format(board=board, text=text, q=q)


PRODUCTS = [
    "How do I export a class list from SIMS into Excel?", "Arbor or Bromcom - what are the pros and cons for a small primary?",
    "Hegarty Maths vs Sparx: which gives better homework data?", "Pearson Edexcel GCSE Maths: list the topics in Paper 2.",
    "How do I set up a Tapestry observation for EYFS?", "Write a parent guide to ClassDojo points.",
    "What does Unifrog do for careers education?", "Seneca Learning homework: how to set a custom assignment.",
    "Explain the difference between CPOMS and MyConcern for a new governor.", "How do I log in to Hwb from home?",
    "Bedrock Learning vocabulary: is it worth it for Year 7?", "Oak National Academy: find me a lesson on the water cycle.",
    "Times Tables Rock Stars - ideas for a whole-school tournament.", "Satchel One (Show My Homework) notifications not arriving: fixes?",
    "Accelerated Reader ZPD ranges explained for parents.", "Purple Mash 2Code: a Year 4 lesson on loops.",
    "How does Wonde sync with Google Classroom?", "Educake vs Tassomai for GCSE science retrieval practice.",
    "Lexia Core5 - how many minutes a week do pupils need?", "Charanga for Year 3 recorder - lesson sequence.",
    "Jigsaw PSHE: what's in the Relationships puzzle for Year 6?", "Read Write Inc (Ruth Miskin) speed sounds chart explained.",
    "Eduqas vs AQA English Literature - which has more set text choice?", "WJEC vs CCEA geography specifications compared.",
]


def school_products(g, h):
    return "allow", "en", pick(g, PRODUCTS, h) + g.one(["", " Short answer please.", " Step by step.", " For a staff briefing."])


PYTHON_CLEAN = [
    "def top_score(scores):\n    return max(scores)\n\nprint(top_score([12, 18, 7]))\n# why does this fail on an empty list?",
    "names = ['a', 'b', 'c']\nfor i in range(len(names)):\n    print(i, names[i])\n# make this more pythonic with enumerate",
    "import random\nquestions = list(range(1, 21))\nrandom.shuffle(questions)\ndel questions[10:]\n# explain del here for Year 10",
    "pip install pandas\n# Error: externally-managed-environment. How do I fix this on the school Linux machines?",
    "marks = {'quiz1': 7, 'quiz2': 9}\ntotal = sum(marks.values())\nprint(f'Total: {total}')\n# add an average",
    "class Grade:\n    def __init__(self, mark):\n        self.mark = mark\n    def band(self):\n        return 'A' if self.mark > 70 else 'B'\n# add docstrings",
    "while True:\n    guess = input('Guess: ')\n    if guess == 'may':\n        break\n# explain break and continue",
    "data = [line.split(',') for line in open('results.csv')]\nbest = max(data, key=lambda r: int(r[1]))\n# what if the file has a header?",
    "def is_even(n):\n    return n % 2 == 0\nassert is_even(4)\n# write five more asserts",
    "Write a Python program for Year 9 that asks for three test marks and prints the max, min and len of the list.",
]
PYTHON_NAMED = [
    "pupils = ['{a}', '{b}', '{c}']\nfor p in pupils:\n    print(p, 'has a merit')\n# add house points",
    "scores = {{'{a}': 14, '{b}': 19}}\nprint(max(scores, key=scores.get))\n# why does it print a name not a score?",
    "# register for {reg}\nnames = \"{a},{b},{c}\".split(',')\nprint(len(names))",
]


def python_code(g, h):
    if g.rng.random() < 0.6:
        return "allow", "en", pick(g, PYTHON_CLEAN, h)
    a, b, c = g.rng.sample(ALL_PUPILS, 3)
    return "redact", "en", g.one(split_pool(PYTHON_NAMED, h)).format(
        a=f"[[{a}]]", b=f"[[{b}]]", c=f"[[{c}]]", reg=g.row(a)["Reg Group"])


# == 7. over-blocking ===========================================================================================

OVERBLOCK_CLEAN = [
    "Write a Year 6 letter: three pupils have been withdrawn from the trip list because the coach is full; a reserve list is open.",
    "Lost property: a navy coat went missing after PE on Tuesday. Write a notice for the newsletter.",
    "How do I add a chronology export in CPOMS for the governors' safeguarding report (no pupil data)?",
    "Write guidance for staff on talking to a class after a teacher's bereavement was announced in assembly.",
    "Create ADHD awareness week activities for tutor time.", "The school cat went missing over half term! Write a funny poster.",
    "Explain the difference between 'withdrawn' and 'shy' for an English vocabulary lesson.",
    "Plan an RE lesson on how different religions mourn (Islam, Judaism, Christianity, Sikhism).",
    "Write a risk assessment for a trip where pupils might go missing in a crowd (general, no names).",
    "The funding for the after-school club has been withdrawn; draft a letter to all parents.",
    "Macbeth Act 2: Duncan's death - write comprehension questions.", "What should a MyConcern log contain? Guidance for new staff.",
    "Grief in 'Out, Out—' by Robert Frost: annotation task.", "Write a poem about a lost dog for Year 3.",
    "Draft a staff INSET session on Autism Acceptance Week.", "How to handle a fire drill when a pupil cannot be found - general procedure.",
    "Create a debate: should schools teach about mental health in every year group?", "Write an assembly about Remembrance Day.",
    "Two library books went missing; write a reminder to all Year 7 classes.", "Explain 'diabetes' in a GCSE biology revision sheet.",
    "Our PE kit supplier withdrew the hoodie from sale. Tell parents about the new one.",
    "Help: the CPOMS app on my phone keeps logging me out. What should I check?",
    "Write a memorial poem for the school's 100th anniversary remembering former staff who died in the wars.",
    "Design a Year 9 PSHE lesson on healthy eating without mentioning weight or dieting.",
]


def overblock_clean(g, h):
    return "allow", "en", pick(g, OVERBLOCK_CLEAN, h) + g.one(["", " Thanks.", " Keep it short.", " Friendly tone."])


OVERBLOCK_NAMED = [
    "{full}'s coat went missing after PE. Draft a note to his form.",
    "{full} has been withdrawn from the Year 8 trip because the dates clash with a family wedding. Update the list.",
    "{fore} is quiet and a bit withdrawn in group work; write a comment encouraging her to speak up.",
    "{fore}'s hamster died last week and she wrote a lovely poem about it. Give feedback on the poem.",
    "{full} missed the deadline because the printer broke. Write a kind extension email.",
    "Log for CPOMS? No - just a note: {fore} forgot her PE kit again. Write a reminder home.",
    "{fore} went missing from the lunch queue for ten minutes; turned out he was helping in the library. Write a funny line for the newsletter.",
    "{full} played the grieving widow in the school play and was brilliant. Write the review.",
    "{fore}'s phone went missing in the changing rooms. Write the lost-property message.",
    "{fore} withdrew from the chess tournament to play in the football final. Update the draw.",
]


OVERBLOCK_EXTRA = ["It's for the form's weekly bulletin.", "Keep it light, nothing formal.", "Two sentences max.",
                   "Parents read these on the app.", "Copy in the Head of Year.", "No need to log anything, it's minor.",
                   "Tone: friendly, not telling off.", "I'll send it after period 5."]


def overblock_named(g, h):
    full = pick(g, ALL_PUPILS, h)
    extra = g.rng.sample(OVERBLOCK_EXTRA, 2)
    return "redact", "en", " ".join([extra[0], g.one(split_pool(OVERBLOCK_NAMED, h)).format(
        full=f"[[{full}]]", fore=f"[[{g.fore(full)}]]"), extra[1]])


# == 8. tables ==================================================================================================

SUBJECTS = ["Maths", "English Lit", "Biology", "Chemistry", "Physics", "History", "Geography", "French", "Welsh 2nd Lang",
            "Art", "Music", "Computer Science", "RE", "PE (theory)", "Business"]


def _rows(g: Gen, n: int) -> list[str]:
    return g.rng.sample(ALL_PUPILS, n)


def mis_tables(g, h):
    rng = g.rng
    people = _rows(g, rng.randint(4, 9))
    kind = g.one(split_pool(["md_marks", "csv_clash", "tab_attendance", "md_reading", "csv_sims", "tab_targets",
                             "md_houses", "csv_uln", "md_clash", "tab_behaviour", "csv_lunch", "md_options"], h))
    if kind.startswith("md"):
        cols = {"md_marks": ["Name", "Test 1", "Test 2", "Target"], "md_reading": ["Pupil", "Reading age", "Book band"],
                "md_houses": ["Name", "House", "Points"], "md_clash": ["Candidate", "Paper", "Clash with", "Session"],
                "md_options": ["Student", "Option A", "Option B", "Option C"]}[kind]
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for p in people:
            cells = [f"[[{p}]]"] + [rng.choice(SUBJECTS) if "Option" in c or c in ("Paper", "Clash with") else
                                    rng.choice(["AM", "PM"]) if c == "Session" else
                                    rng.choice(["Dewi", "Tudur", "Glyndŵr", "Hywel"]) if c == "House" else
                                    str(rng.randint(5, 40)) for c in cols[1:]]
            lines.append("| " + " | ".join(cells) + " |")
        ask = rng.choice(["Sort this by the second column:", "Highlight anyone below target:", "Turn into a summary:",
                          "Find the clashes and suggest fixes (keep the subject columns):", "Total it up:"])
    elif kind.startswith("csv"):
        header = {"csv_clash": "Surname,Forename,Subject,Paper,Date", "csv_sims": "Adno,Surname,Forename,Reg,UPN",
                  "csv_uln": "Surname,Forename,ULN,Course", "csv_lunch": "Surname,Forename,Lunch choice,Allergy"}[kind]
        lines = [header]
        for p in people:
            row = g.row(p)
            sur, fore = f"[[{row['Legal Surname']}]]", f"[[{row['Legal Forename']}]]"
            if kind == "csv_clash":
                lines.append(f"{sur},{fore},{rng.choice(SUBJECTS)},{rng.randint(1, 3)},{rng.randint(10, 28)}/05")
            elif kind == "csv_sims":
                lines.append(f"{row['Admission No']},{sur},{fore},{row['Reg Group']},[[UPN@{row['Legal Forename']} {row['Legal Surname']}]]")
            elif kind == "csv_uln":
                uln = f"[[ULN@{row['Legal Forename']} {row['Legal Surname']}]]" if row["ULN"] else "[[ULN]]"
                lines.append(f"{sur},{fore},{uln},{rng.choice(['BTEC Sport', 'GCSE', 'A-level', 'NVQ'])}")
            else:
                lines.append(f"{sur},{fore},{rng.choice(['hot', 'packed', 'jacket potato', 'pasta'])},none")
        ask = rng.choice(["Clean this CSV up:", "Which rows are missing data?", "Convert to a markdown table:",
                          "Dedupe this export:", "Put these into exam rooms of 30:"])
    else:
        cols = {"tab_attendance": ["Name", "Att %", "Lates"], "tab_targets": ["Name", "Current", "Target", "Subject"],
                "tab_behaviour": ["Name", "Positives", "Negatives"]}[kind]
        lines = ["\t".join(cols)]
        for p in people:
            lines.append("\t".join([f"[[{p}]]"] + [rng.choice(SUBJECTS) if c == "Subject" else str(rng.randint(0, 99))
                                                  for c in cols[1:]]))
        ask = rng.choice(["Pasted from the MIS:", "Make a chart from this:", "Who is below 90%?", "Rank these:"])
    return "redact", "en", ask + "\n" + "\n".join(lines)


def seating_plans(g, h):
    rng = g.rng
    short = ["Al Boyd", "Jo Pike", "Ed Farrell", "Mo Iqbal", "Del Francis", "Len Kaminski", "Pip Sims"]
    people = rng.sample(short, rng.randint(2, 4)) + _rows(g, rng.randint(4, 10))
    rng.shuffle(people)
    style = g.one(split_pool(["grid", "rows", "initial", "pairs", "md", "front"], h))
    cell = (lambda p: f"[[{g.fore(p)}]] {g.sur(p)[0]}") if style in ("grid", "initial") else (lambda p: f"[[{p}]]")
    if style in ("grid", "md"):
        width = 3
        rows = [people[i:i + width] for i in range(0, len(people), width)]
        sep = " | " if style == "md" else "\t"
        lines = [f"Row {n + 1}{sep}" + sep.join(cell(p) for p in row) for n, row in enumerate(rows)]
    elif style == "pairs":
        lines = [f"Desk {n + 1}: {cell(a)} & {cell(b)}" for n, (a, b) in enumerate(zip(people[::2], people[1::2]))]
    else:
        lines = [f"{n + 1}. {cell(p)}" for n, p in enumerate(people)]
    ask = rng.choice(["Seating plan for 8X — move talkers apart, keep row labels:", "Print-friendly version of this plan:",
                      "Swap the back two rows:", "Cynllun eistedd — cadw'r labeli:", "Boy/girl where possible:",
                      "Put the front row by the window:"])
    if ask.startswith("Cynllun"):
        lines = [line.replace("Row ", "Rhes ").replace("Desk ", "Desg ") for line in lines]
    return "redact", "cy" if ask.startswith("Cynllun") else "en", ask + "\n" + "\n".join(lines)


def mail_merge(g, h):
    rng = g.rng
    people = _rows(g, rng.randint(3, 7))
    style = g.one(split_pool(["csv", "fields", "merged", "tab", "labels"], h))
    if style == "csv":
        lines = ["ParentTitle,ParentSurname,ChildForename,Class,Amount"]
        lines += [f"{rng.choice(['Mr', 'Mrs', 'Ms'])},[[{g.sur(p)}]],[[{g.fore(p)}]],{g.row(p)['Reg Group']},£{rng.randint(5, 40)}.00"
                  for p in people]
        ask = "Mail merge data for the trip letters - check the columns line up:\n"
    elif style == "tab":
        lines = ["Forename\tSurname\tTutor\tParents' evening slot"]
        lines += [f"[[{g.fore(p)}]]\t[[{g.sur(p)}]]\t{rng.choice(['Mr Probert', 'Ms Desai', 'Mrs Tudor'])}\t{rng.randint(16, 19)}:{rng.choice(['00', '10', '20', '40'])}"
                  for p in people]
        ask = "Parents' evening merge file - sort by time and keep all four columns:\n"
        ask += "(tutor names are staff)\n"
        lines = [line.replace("Mr Probert", "Mr [[PERSON:Probert]]").replace("Ms Desai", "Ms [[PERSON:Desai]]")
                 .replace("Mrs Tudor", "Mrs [[PERSON:Tudor]]") for line in lines]
    elif style == "fields":
        p = people[0]
        lines = ["Dear «ParentTitle» «ParentSurname»,", f"«ChildForename» has been selected for the {rng.choice(['choir', 'football team', 'maths challenge'])}.",
                 "", "Merge record 1: ParentTitle=Mrs; ParentSurname=" + f"[[{g.sur(p)}]]; ChildForename=[[{g.fore(p)}]]"]
        ask = "My mail merge shows «ChildForename» instead of the name. Why? Template and first record:\n"
    elif style == "labels":
        lines = [f"[[{p}]] — {g.row(p)['Reg Group']} — Locker {rng.randint(1, 300)}" for p in people]
        ask = "Make Avery L7160 labels from this (one per line):\n"
    else:
        p = people[0]
        lines = [f"Dear Mr and Mrs [[{g.sur(p)}]],", f"We are delighted that [[{g.fore(p)}]] has been awarded a certificate for "
                 f"{rng.choice(['100% attendance', 'excellent effort', 'reading 50 books'])}."]
        ask = "One merged letter came out wrong — can you check the wording?\n"
    return "redact", "en", ask + "\n".join(lines)


EHCP_SECTIONS = [
    "Section B – Special Educational Needs: {fore} has a diagnosis of autism spectrum condition and significant difficulties with social communication.",
    "Section F – Provision: 1:1 LSA support for 15 hours per week; speech and language therapy 6 sessions per term.",
    "Outcome 2: By the end of Key Stage 3, {fore} will manage transitions between lessons with a visual timetable.",
    "CPOMS entry 14/11 09:12 – Category: Safeguarding, Mental health. {fore} disclosed thoughts of self-harm to form tutor. DSL informed.",
    "CPOMS entry 15/11 – Action: referral to CAMHS; parent contacted by phone.",
    "MyConcern – {fore} came in with bruising to the upper arm; explanation inconsistent. Passed to DSL.",
    "Section C – Health: epilepsy (tonic-clonic), rescue medication held in the medical room.",
    "Annual review: parents report {fore} is anxious about secondary transfer; sleep is poor.",
    "Pupil views: '{fore} likes Lego and quiet spaces. Loud bells are scary.'",
    "Adran B (CDU): Mae gan {fore} anawsterau lleferydd ac iaith ac anghenion dysgu ychwanegol.",
]
EHCP_ASKS = ["Summarise this EHCP extract for the class teacher:", "Tidy this CPOMS chronology into a timeline:",
             "Turn this into a one-page profile:", "What's missing from these review notes?", "Draft the covering letter for this:",
             "Crynhoa hwn i'r athro dosbarth:"]


def ehcp_cpoms(g, h):
    full = pick(g, ALL_PUPILS, h)
    fore = g.fore(full)
    sections = g.rng.sample(EHCP_SECTIONS, g.rng.randint(2, 4))
    if not any("{fore}" in s for s in sections):
        sections.append(EHCP_SECTIONS[0])
    body = "\n".join(s.format(fore=f"[[{fore}]]") for s in sections)
    header = f"Name: [[{full}]]   DOB: [[DOB@{g.row(full)['Legal Forename']} {g.row(full)['Legal Surname']}]]   Year {g.row(full)['Year']}"
    ask = g.one(split_pool(EHCP_ASKS, h))
    return "block", _language([ask] + sections), f"{ask}\n\n{header}\n{body}"


def long_paste(g, h):
    rng = g.rng
    people = _rows(g, rng.randint(5, 9))
    (s1, r1), (s2, r2) = rng.sample(STAFF, 2)
    addr, _ = _address_block(g, form=0)
    pf = g.one(PARENT_FORENAMES)
    parts = [f"From: [[PERSON:{s1}]] <[[EMAIL:{s1.lower().replace(' ', '.')}@school.example.org]]>",
             f"To: Year team\nSubject: {rng.choice(['End of term round-up', 'Reports - final checks', 'Trip update and thanks'])}",
             "", "Hi all,", ""]
    for p in people:
        parts.append(rng.choice([f"- [[{p}]]: report comment still missing in {rng.choice(SUBJECTS)}.",
                                 f"- [[{p}]] won the {rng.choice(['poetry', 'science', 'art'])} prize, please congratulate.",
                                 f"- [[{p}]]'s trip money still outstanding (£{rng.randint(5, 40)}).",
                                 f"- [[{g.fore(p)}]] moved to set {rng.randint(1, 4)} for maths from Monday."]))
    parts += ["", rng.choice(["Thanks for all your hard work this term.", "Reports go out Friday.", "Have a lovely break."]),
              "", f"[[PERSON:{s1.split()[0]}]]", f"{r1}", "",
              f"-----Original message-----\nFrom: [[PERSON:{pf}]] [[{g.sur(people[0])}]]\n{addr}\n"
              f"Hi, just to say [[{g.fore(people[0])}]] loved the trip. Thanks to [[PERSON:{s2}]] ({r2}) too."]
    if h or rng.random() < 0.3:  # the long pastes that also carry special category: block
        parts.insert(6, f"- [[{people[-1]}]]: {rng.choice(['EHCP review moved to 3 July', 'CAMHS appointment Tuesday', 'now on the CP register', 'medication for ADHD changed'])}.")
        action = "block"
    else:
        action = "redact"
    ask = rng.choice(["Summarise this thread into actions per person:\n\n", "Turn this email into a table (name | action):\n\n",
                      "Shorten this for the staff bulletin:\n\n"])
    return action, "en", ask + "\n".join(parts)


# == 9. smaller =================================================================================================

UPN_FRAMES = ["The exam board wants the UPN for {full}: {upn} — the form rejects it, why?",
              "{upn} is {fore}'s UPN from the old school (I think a letter is missing). Fix the format.",
              "Transfer file: {full}, UPN {upn}. Is that the right length?",
              "CTF import failed on {upn} ({full}). What's wrong with it?",
              "Rhif UPN {full} yw {upn}. Ydy hwn yn gywir?"]


def upn_no_check(g, h):
    full = pick(g, ALL_PUPILS, h)
    row = g.row(full)
    template = g.one(split_pool(UPN_FRAMES, h))
    return "redact", "cy" if template.startswith("Rhif") else "en", template.format(
        full=f"[[{full}]]", fore=f"[[{g.fore(full)}]]", upn=f"[[UPN12@{row['Legal Forename']} {row['Legal Surname']}]]")


INITIALS_FRAMES = ["{i} in {reg} has anorexia; how do I support her in food tech?",
                   "Quick one: {i} ({reg}) is on the CP register - can she go on the residential?",
                   "{i}, {reg}, diagnosed ADHD last week. Seating suggestions?",
                   "Support plan for {i} in {reg}: autism, hates loud noise.",
                   "{i} ({reg}) self-harming again. What do I say to her tomorrow?",
                   "Mae gan {i} yn {reg} ddiabetes. Beth am y trip?",
                   "{i} from {reg} is LAC and has contact with mum on Thursdays; can we move the detention?"]


def initials_special(g, h):
    full = pick(g, ALL_PUPILS, h)
    row = g.row(full)
    template = g.one(split_pool(INITIALS_FRAMES, h))
    return "block", "cy" if template.startswith("Mae") else "en", template.format(
        i=f"[[INITIALS@{row['Legal Forename']} {row['Legal Surname']}]]", reg=row["Reg Group"])


# (tier, recipe, dev prompts, hold-out prompts)
GENERATORS = [
    ("cy_clean", cy_clean, 30, 10), ("cy_named", cy_named, 30, 10), ("cy_special", cy_special, 30, 10),
    ("cy_special_no_id", cy_special_no_id, 20, 8), ("translated_clean", translated_clean, 30, 10),
    ("translated_named", translated_named, 24, 8), ("translated_special", translated_special, 24, 8),
    ("address_home", address_home, 30, 10), ("address_postcode", address_postcode, 20, 8),
    ("address_special", address_special, 20, 8), ("address_public", address_public, 8, 4),
    ("parent_named", parent_named, 24, 8), ("staff_named", staff_named, 20, 8),
    ("non_roster_child", non_roster_child, 20, 8), ("families", families, 16, 6),
    ("usernames_files", usernames_files, 20, 8), ("other_people_special", other_people_special, 20, 8),
    ("new_starter_sen", new_starter_sen, 24, 8), ("cross_sentence", cross_sentence, 24, 8),
    ("evasion_encoded", evasion_encoded, 30, 10), ("evasion_base64", evasion_base64, 14, 5),
    ("encoding_clean", encoding_clean, 11, 5), ("timetable", timetable, 16, 6),
    ("word_names_named", word_names_named, 24, 8), ("word_names_clean", word_names_clean, 15, 7),
    ("places", places, 16, 6), ("set_texts", set_texts, 24, 8), ("school_products", school_products, 16, 6),
    ("python_code", python_code, 14, 5), ("overblock_clean", overblock_clean, 16, 8),
    ("overblock_named", overblock_named, 20, 8), ("mis_tables", mis_tables, 24, 8),
    ("seating_plans", seating_plans, 16, 6), ("mail_merge", mail_merge, 16, 6), ("ehcp_cpoms", ehcp_cpoms, 20, 8),
    ("long_paste", long_paste, 12, 4), ("upn_no_check", upn_no_check, 12, 4),
    ("initials_special", initials_special, 16, 6),
]
